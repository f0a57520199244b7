import { JobsChanged } from '@panda/proto';
import type { JobChange } from '@panda/proto';
import type { OutgoingEvent } from '@panda/platform';
import type { JobRow } from './job-row.js';

/** The event entry for a job row that just moved from `previous`. */
export function jobChange(r: JobRow, previous: string): JobChange {
  return {
    pandaId: Number(r.panda_id),
    taskId: Number(r.task_id),
    inputId: Number(r.input_id),
    workflowId: Number(r.workflow_id),
    previousState: previous,
    state: r.state,
    attemptNr: r.attempt_nr,
    exitCode: r.exit_code,
    errorCode: r.error_code,
    errorDiag: r.error_diag,
    queue: r.queue,
    errors: r.errors,
    memoryMb: r.memory_mb,
    walltimeS: r.walltime_s,
  };
}

/** Jobs per message: a staged fan-out activates tens of thousands at once (NATS caps a message). */
const MAX_JOBS_PER_EVENT = 5000;

/** `panda.job.<state>` messages per target state, carrying the jobs that moved there. */
export function jobEvents(changes: JobChange[], at = new Date()): OutgoingEvent[] {
  const byState = new Map<string, JobChange[]>();
  for (const c of changes) {
    const list = byState.get(c.state) ?? [];
    list.push(c);
    byState.set(c.state, list);
  }
  return [...byState].flatMap(([state, all]) => {
    const out: OutgoingEvent[] = [];
    for (let i = 0; i < all.length; i += MAX_JOBS_PER_EVENT) {
      const jobs = all.slice(i, i + MAX_JOBS_PER_EVENT);
      out.push({ subject: `panda.job.${state}`, payload: JobsChanged.encode({ state, jobs, at }).finish() });
    }
    return out;
  });
}
