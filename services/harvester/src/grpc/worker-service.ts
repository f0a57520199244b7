import { InvalidArgumentError, NotFoundError } from '@panda/platform';
import type {
  GetQueueLimitsRequest,
  GetQueueLimitsResponse,
  ListWorkersRequest,
  ListWorkersResponse,
  QueueLimits,
  Worker,
  WorkerServiceImplementation,
} from '@panda/proto';
import type { CallContext } from 'nice-grpc-common';
import type { HarvesterAgent, QueuePlan } from '../agent/agent.js';
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
    cores: row.cores,
    memoryMb: row.memoryMb,
    walltimeS: row.walltimeS,
    logUrl: row.logUrl,
    exitCode: row.exitCode ?? 0,
    errorCode: row.errorCode ?? 0,
    diag: row.diag,
    nativeStatus: row.nativeStatus,
    submittedAt: row.submittedAt,
    endedAt: row.endedAt ?? undefined,
  };
}

function limitsOf(p: QueuePlan, workers: Record<string, number>): QueueLimits {
  const h = p.queue.harvester;
  return {
    queue: p.queue.name,
    status: p.queue.status,
    mode: h?.mode ?? '',
    submitter: h?.submitter ?? '',
    served: p.served,
    maxWorkers: h?.maxWorkers ?? 0,
    nQueueLimitWorker: h?.nQueueLimitWorker ?? 0,
    maxNewWorkersPerCycle: h?.maxNewWorkersPerCycle ?? 0,
    activatedJobs: p.activated,
    workers,
    nNewWorkers: p.decision.n,
    boundBy: p.decision.boundBy,
    reason: p.decision.reason,
  };
}

/**
 * harvester's WorkerService: ListWorkers, newest first, filtered by queue and state;
 * GetQueueLimits, the adjuster's plan for the queues right now (nothing is submitted).
 */
export function workerService(
  store: Pick<WorkerStore, 'list' | 'countsByQueueAndState'>,
  agent: Pick<HarvesterAgent, 'plan'>,
): WorkerServiceImplementation {
  return {
    async getQueueLimits(
      request: GetQueueLimitsRequest,
      context: CallContext,
    ): Promise<GetQueueLimitsResponse> {
      const plan = await agent.plan(context.signal);
      const queues = request.queue ? plan.queues.filter((q) => q.queue.name === request.queue) : plan.queues;
      if (request.queue && queues.length === 0) throw new NotFoundError('queue', request.queue);
      const workers = new Map<string, Record<string, number>>();
      for (const row of await store.countsByQueueAndState()) {
        const byState = workers.get(row.queue) ?? {};
        byState[row.state] = row.count;
        workers.set(row.queue, byState);
      }
      return {
        queues: queues.map((q) => limitsOf(q, workers.get(q.queue.name) ?? {})),
        maxWorkersTotal: plan.maxWorkersTotal,
        totalRemaining: plan.totalRemaining,
      };
    },

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
