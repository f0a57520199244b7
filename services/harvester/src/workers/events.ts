import type { OutgoingEvent } from '@panda/platform';
import { WorkerChanged } from '@panda/proto';
import type { WorkerState } from './states.js';

export interface WorkerChange {
  workerId: string;
  queue: string;
  /** Empty for a new worker. */
  previousState: WorkerState | '';
  state: WorkerState;
  exitCode: number | null;
  errorCode?: number | null;
  diag: string;
}

/** `panda.worker.<state>` carrying a WorkerChanged message. */
export function workerChangedEvent(change: WorkerChange): OutgoingEvent {
  const message = WorkerChanged.fromPartial({
    workerId: change.workerId,
    queue: change.queue,
    previousState: change.previousState,
    state: change.state,
    exitCode: change.exitCode ?? 0,
    errorCode: change.errorCode ?? 0,
    diag: change.diag,
  });
  return { subject: `panda.worker.${change.state}`, payload: WorkerChanged.encode(message).finish() };
}
