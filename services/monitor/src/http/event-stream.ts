import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/** A comment this often keeps an idle stream, and the proxies on its way, open. */
const HEARTBEAT_MS = 15_000;

/** A response taken over from Fastify as a stream of server-sent events. */
export interface EventStream {
  res: ServerResponse;
  /** Writes a frame, unless the response has ended. */
  write(frame: string): void;
  /** Stops the heartbeat; call it when the stream ends. */
  stopHeartbeat(): void;
}

/**
 * Takes the response over from Fastify and starts a server-sent event stream: the headers (no
 * caching, no proxy buffering), a reconnect delay of 3 s, then a comment every 15 s.
 */
export function openEventStream(reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 3000\n: connected\n\n');
  const write = (frame: string) => {
    if (!res.writableEnded) res.write(frame);
  };
  const heartbeat = setInterval(() => write(': ping\n\n'), HEARTBEAT_MS);
  return { res, write, stopHeartbeat: () => clearInterval(heartbeat) };
}
