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

/** One `panda.job.<state>` message per target state, carrying every job that moved there. */
export function jobEvents(changes: JobChange[], at = new Date()): OutgoingEvent[] {
  const byState = new Map<string, JobChange[]>();
  for (const c of changes) {
    const list = byState.get(c.state) ?? [];
    list.push(c);
    byState.set(c.state, list);
  }
  return [...byState].map(([state, jobs]) => ({
    subject: `panda.job.${state}`,
    payload: JobsChanged.encode({ state, jobs, at }).finish(),
  }));
}
