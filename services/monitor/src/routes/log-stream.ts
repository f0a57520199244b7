import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MonitorBackends } from '../backends.js';
import { FINAL_JOB_STATES, getJob } from '../db/jobs.js';
import { HttpError } from '../http/errors.js';
import { openEventStream } from '../http/event-stream.js';
import { optInt, parseId, parseQuery } from '../http/query.js';
import { isStreamMissing, LOGS_STREAM } from '../logs/job-log.js';
import type { LogFeed } from '../logs/job-log.js';
import { sseFrame, tailEvents } from '../logs/tail.js';

/** After the job reached a final state, wait this long for its last log batch, then end. */
export const END_GRACE_MS = 2_000;
export const DEFAULT_LAST = 200;

const querySchema = z.object({
  /** Records of the backlog to send first. */
  last: z
    .union([z.literal(''), z.coerce.number().int().min(0).max(5000)])
    .optional()
    .transform((v) => (v === '' || v === undefined ? DEFAULT_LAST : v)),
  /** Resume after this stream sequence (as the `Last-Event-ID` header does). */
  after: optInt(),
});

/**
 * `GET /jobs/:id/log/stream`: the job's live log as server-sent events, read from the JetStream
 * stream `PANDA_LOGS` (subject `logs.<taskId>.<pandaId>`) with an ordered consumer of its own.
 * First the last `?last=` (200) stored records in one event, then `event: ready`, then each new
 * batch as it is stored (`data: {records, skipped}`, `id:` its stream sequence, so that a
 * reconnecting browser's `Last-Event-ID` resumes after it, without the backlog again). `event:
 * end` once the pilot's final batch arrived, or the job reached a final state (then after a
 * grace of 2 s). The consumer is deleted when the client disconnects.
 */
export function registerLogStreamRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  app.get(
    '/jobs/:id/log/stream',
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: unknown }>, reply) => {
      const pandaId = parseId(request.params.id, 'PandaID');
      const q = parseQuery(querySchema, request.query);
      const source = backends.logs;
      if (!source) throw new HttpError(503, 'live logs are off: the monitor has no PANDA_NATS_URL');
      const lastEventId = Number(request.headers['last-event-id'] ?? '');
      const after = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : (q.after ?? 0);
      const job = backends.db ? await getJob(backends.db, pandaId) : undefined;
      if (backends.db && !job) throw new HttpError(404, `job ${pandaId} not found`);

      let feed: LogFeed;
      try {
        feed = await source.open({ pandaId, taskId: job?.taskId }, after);
      } catch (err) {
        throw new HttpError(
          503,
          isStreamMissing(err)
            ? `no job logs yet: the stream ${LOGS_STREAM} does not exist (the pilot-gateway creates it)`
            : `cannot read the log stream ${LOGS_STREAM}`,
          { cause: err },
        );
      }

      const { res, write, stopHeartbeat } = openEventStream(reply);
      let graceTimer: NodeJS.Timeout | undefined;
      let ready = false;
      let endedAs: string | undefined; // the job's final state, once known
      let unsubscribe = (): void => undefined;

      // Ending without `event: end` (disconnect, shutdown) lets a browser reconnect and resume.
      const finish = () => {
        stopHeartbeat();
        clearTimeout(graceTimer);
        unsubscribe();
        void feed.close();
      };
      const endAfterGrace = () => {
        graceTimer ??= setTimeout(() => {
          write(sseFrame({ type: 'end', reason: `the job is ${endedAs ?? 'over'}` }));
          finish();
        }, END_GRACE_MS);
      };
      const jobEnded = (state: string) => {
        endedAs = state;
        if (ready) endAfterGrace();
      };
      if (job && FINAL_JOB_STATES.has(job.state)) endedAs = job.state;
      if (backends.live) {
        unsubscribe = backends.live.subscribe(
          [`job:${pandaId}`],
          (event) => {
            const state = event.subject.split('.')[2] ?? '';
            if (event.subject.startsWith('panda.job.') && FINAL_JOB_STATES.has(state)) jobEnded(state);
          },
          finish,
        );
      }
      res.once('close', finish);

      try {
        for await (const event of tailEvents(feed, after > 0 ? Number.POSITIVE_INFINITY : q.last)) {
          write(sseFrame(event));
          if (event.type === 'ready') {
            ready = true;
            if (endedAs) endAfterGrace();
          }
          if (event.type === 'end') break;
        }
      } catch (err) {
        request.log.warn({ err, pandaId }, 'live log tail failed');
      } finally {
        finish();
        if (!res.writableEnded) res.end();
      }
    },
  );
}
