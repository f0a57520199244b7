import type { FastifyReply } from 'fastify';

/**
 * A signal for the calls made to answer one request: aborted when the client goes away (the
 * response closes) or after `timeoutMs`.
 */
export function replySignal(reply: FastifyReply, timeoutMs: number): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort(new Error('the client went away')));
  return AbortSignal.any([gone.signal, AbortSignal.timeout(timeoutMs)]);
}
