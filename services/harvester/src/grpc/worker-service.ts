import { InvalidArgumentError } from '@panda/platform';
import type {
  ListWorkersRequest,
  ListWorkersResponse,
  Worker,
  WorkerServiceImplementation,
} from '@panda/proto';
import { isWorkerState } from '../workers/states.js';
import type { WorkerRow, WorkerStore } from '../workers/store.js';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export function workerToProto(row: WorkerRow): Worker {
  return {
    workerId: row.workerId,
    queue: row.queue,
    state: row.state,
    batchId: row.batchId,
    submitter: row.submitter,
    exitCode: row.exitCode ?? 0,
    errorCode: row.errorCode ?? 0,
    diag: row.diag,
    submittedAt: row.submittedAt,
    endedAt: row.endedAt ?? undefined,
  };
}

/** harvester's WorkerService: ListWorkers, newest first, filtered by queue and state. */
export function workerService(store: Pick<WorkerStore, 'list'>): WorkerServiceImplementation {
  return {
    async listWorkers(request: ListWorkersRequest): Promise<ListWorkersResponse> {
      const state = request.state || undefined;
      if (state !== undefined && !isWorkerState(state)) {
        throw new InvalidArgumentError('state', `unknown worker state ${JSON.stringify(state)}`);
      }
      if (request.limit < 0) throw new InvalidArgumentError('limit', 'must not be negative');
      const limit = Math.min(request.limit || DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
      const rows = await store.list({ queue: request.queue || undefined, state, limit });
      return { workers: rows.map(workerToProto) };
    },
  };
}
