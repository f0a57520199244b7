import type { FastifyReply } from 'fastify';
import type { MonitorBackends } from '../backends.js';

export function sendHtml(reply: FastifyReply, page: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(page);
}

/** Live keys for a page, or undefined (the page then refreshes itself) when there is no live feed. */
export const liveKeys = (backends: MonitorBackends, ...keys: string[]): string[] | undefined =>
  backends.live ? keys : undefined;
