import type { Outbox, Sql } from '@panda/platform';
import type { WorkerChanged } from '@panda/proto';
import { jobEvents, jobChange } from './job-events.js';
import type { JobRow } from './job-row.js';

/** Worker end states harvester reports. */
export const ENDED_WORKER_STATES = ['finished', 'failed', 'cancelled', 'missed'] as const;

const OUT_OF_MEMORY = 1212;

/**
 * A worker (pod, Slurm job, process) ended while jobs it took are not final: they can never
 * report, so fail them now instead of waiting for the heartbeat timeout. Out of memory is a
 * supervisor 1212 (the retry module boosts memory); anything else is taskbuffer 300 "worker
 * done before job" (a system error that does not burn the user's attempts).
 */
export function onWorkerEnded(outbox: Outbox) {
  return async (sql: Sql, event: WorkerChanged): Promise<void> => {
    if (!event.workerId) return;
    const oom = event.errorCode === OUT_OF_MEMORY;
    const error = oom
      ? { source: 'sup', code: OUT_OF_MEMORY, diag: `worker out of memory: ${event.diag}`.slice(0, 4000) }
      : {
          source: 'taskbuffer',
          code: 300,
          diag: `worker ${event.state} before the job ended: ${event.diag}`.slice(0, 4000),
        };
    const rows = await sql.query<JobRow & { old_state: string }>(
      `WITH t AS (SELECT panda_id, state AS old_state FROM server.jobs
                  WHERE worker_id = $1 AND state IN ('sent', 'starting', 'running', 'holding', 'transferring')
                  ORDER BY panda_id FOR UPDATE)
       UPDATE server.jobs j SET state = COALESCE(j.kill_state, 'failed'), state_changed_at = now(), modified_at = now(),
         end_time = now(), errors = j.errors || jsonb_build_array($2::jsonb)
       FROM t WHERE j.panda_id = t.panda_id RETURNING j.*, t.old_state`,
      [event.workerId, JSON.stringify(error)],
    );
    await outbox.write(sql, jobEvents(rows.map((r) => jobChange(r, r.old_state))));
  };
}
