import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MonitorBackends } from '../backends.js';
import { HttpError } from '../http/errors.js';
import { openEventStream } from '../http/event-stream.js';
import { wantsJson } from '../http/negotiate.js';

/**
 * `GET /events?keys=a b`: server-sent events, one `data: {subject, keys}` per matching `panda.*`
 * event (all when no keys). With `?json`: event counts so far.
 */
export function registerLiveRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  app.get('/events', async (request: FastifyRequest<{ Querystring: { keys?: string } }>, reply) => {
    const hub = backends.live;
    if (!hub) throw new HttpError(503, 'live updates are off: the monitor has no PANDA_NATS_URL');
    if (wantsJson(request) && !(request.headers.accept ?? '').includes('text/event-stream')) {
      return { clients: hub.size, events: Object.fromEntries(hub.counts) };
    }
    const keys = (request.query.keys ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .slice(0, 50);
    const { res, write, stopHeartbeat } = openEventStream(reply);
    let unsubscribe = (): void => undefined;
    const end = () => {
      stopHeartbeat();
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    unsubscribe = hub.subscribe(keys, (event) => write(`data: ${JSON.stringify(event)}\n\n`), end);
    request.raw.on('close', end);
  });
}
