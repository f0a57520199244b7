import type { Logger, Outbox } from '@panda/platform';
import type { QueueCatalogue } from '../queues/catalogue.js';
import { jobChange, jobEvents } from './job-events.js';
import type { JobRow } from './job-row.js';

const BATCH = 1000;

/**
 * Fails jobs whose pilot went silent, per queue timeouts: running without an update for
 * `heartbeatS` (starting: `startingS`) -> dispatcher 100 "lost heartbeat"; sent and never started for `sentS` ->
 * 102; holding for `holdingS` -> 103. Queues in `paused` are exempt, as in the original.
 */
export class Watchdog {
  constructor(
    private readonly outbox: Outbox,
    private readonly catalogue: QueueCatalogue,
    private readonly logger: Logger,
  ) {}

  /** One pass; returns how many jobs it failed. */
  async sweep(): Promise<number> {
    const queues = this.catalogue.list().filter((q) => q.status !== 'paused');
    if (queues.length === 0) return 0;
    let total = 0;
    for (;;) {
      const rows = await this.outbox.tx(async (sql) => {
        const failed = await sql.query<JobRow & { old_state: string }>(
          `WITH t(queue, hb, sent, hold, start) AS (
             SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $6::int[])),
           stale AS (
             SELECT j.panda_id, j.state AS old_state, j.modified_at,
               CASE WHEN j.state = 'sent' THEN 102 WHEN j.state = 'holding' THEN 103 ELSE 100 END AS code
             FROM server.jobs j JOIN t USING (queue)
             WHERE (j.state = 'running' AND j.modified_at < now() - make_interval(secs => t.hb))
                OR (j.state = 'starting' AND j.modified_at < now() - make_interval(secs => t.start))
                OR (j.state = 'sent' AND j.state_changed_at < now() - make_interval(secs => t.sent))
                OR (j.state = 'holding' AND j.state_changed_at < now() - make_interval(secs => t.hold))
             ORDER BY j.panda_id LIMIT $5 FOR UPDATE OF j SKIP LOCKED)
           UPDATE server.jobs j SET state = 'failed', state_changed_at = now(), modified_at = now(), end_time = now(),
             errors = j.errors || jsonb_build_array(jsonb_build_object('source', 'dispatcher', 'code', s.code,
               'diag', CASE s.code WHEN 100 THEN 'lost heartbeat : ' || to_char(s.modified_at, 'YYYY-MM-DD HH24:MI:SS')
                                   WHEN 102 THEN 'sent timeout' ELSE 'holding timeout' END))
           FROM stale s WHERE j.panda_id = s.panda_id RETURNING j.*, s.old_state`,
          [
            queues.map((q) => q.name),
            queues.map((q) => q.timeouts.heartbeatS),
            queues.map((q) => q.timeouts.sentS),
            queues.map((q) => q.timeouts.holdingS),
            BATCH,
            queues.map((q) => q.timeouts.startingS ?? q.timeouts.heartbeatS),
          ],
        );
        await this.outbox.write(sql, jobEvents(failed.map((r) => jobChange(r, r.old_state))));
        return failed;
      });
      total += rows.length;
      if (rows.length) this.logger.warn({ jobs: rows.length }, 'watchdog failed jobs with silent pilots');
      if (rows.length < BATCH) return total;
    }
  }

  /** Sweeps every `everyMs` until `signal` aborts. */
  async run(everyMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sweep();
      } catch (err) {
        this.logger.error({ err }, 'watchdog sweep failed');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }
}
