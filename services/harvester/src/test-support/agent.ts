/**
 * HarvesterAgent under test: an in-memory worker store, a fake submitter plugin and a fake queue
 * client; shared by the agent tests (src/agent/agent*.test.ts).
 */
import { createLogger } from '@panda/platform';
import type { Queue, QueueStats } from '@panda/proto';
import type { QueueClient } from '../agent/agent.js';
import type { SubmitResult, SubmitterPlugin, WorkerRef, WorkerSpec, WorkerStatus } from '../plugins/types.js';
import { workerTransitions } from '../workers/states.js';
import type { WorkerState } from '../workers/states.js';
import type { NewWorker, QueueWorkerCounts, WorkerPatch, WorkerRow } from '../workers/store.js';

export const logger = createLogger({ service: 'harvester-test', level: 'silent' });

/** In-memory stand-in for WorkerStore with the same transition rules. */
export class MemoryStore {
  readonly rows = new Map<string, WorkerRow>();
  readonly events: { workerId: string; from: string; to: WorkerState }[] = [];

  async create(w: NewWorker): Promise<void> {
    this.rows.set(w.workerId, {
      ...w,
      walltimeS: w.walltimeS ?? 0,
      logUrl: w.logUrl ?? '',
      state: 'submitted',
      batchId: '',
      submittedAt: new Date(),
      startedAt: null,
      endedAt: null,
      exitCode: null,
      errorCode: null,
      diag: '',
      nativeStatus: '',
    });
    this.events.push({ workerId: w.workerId, from: '', to: 'submitted' });
  }

  async move(workerId: string, to: WorkerState, patch: WorkerPatch = {}): Promise<WorkerRow | undefined> {
    const row = this.rows.get(workerId)!;
    if (row.state !== to) {
      if (workerTransitions.isFinal(row.state)) return undefined;
      workerTransitions.assertMove(row.state, to);
      this.events.push({ workerId, from: row.state, to });
    }
    Object.assign(
      row,
      { state: to },
      Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
    );
    return row;
  }

  async active(submitter?: string): Promise<WorkerRow[]> {
    return [...this.rows.values()].filter(
      (r) => !workerTransitions.isFinal(r.state) && (!submitter || r.submitter === submitter),
    );
  }

  async activeCounts(): Promise<Map<string, QueueWorkerCounts>> {
    const counts = new Map<string, QueueWorkerCounts>();
    for (const r of await this.active()) {
      const c = counts.get(r.queue) ?? { queued: 0, running: 0 };
      if (r.state === 'submitted') c.queued++;
      else c.running++;
      counts.set(r.queue, c);
    }
    return counts;
  }
}

export class FakePlugin implements SubmitterPlugin {
  readonly name = 'local';
  supportsPush = true;
  readonly submitted: WorkerSpec[] = [];
  readonly statuses = new Map<string, Omit<WorkerStatus, 'workerId'>>();
  failNext = false;
  /** Added to every submission's result (walltimeS, logUrl, ...). */
  result: Partial<SubmitResult> = {};

  async submit(spec: WorkerSpec): Promise<SubmitResult> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('no more pids');
    }
    this.submitted.push(spec);
    return { batchId: String(1000 + this.submitted.length), state: 'running', ...this.result };
  }
  async check(workers: WorkerRef[]): Promise<WorkerStatus[]> {
    return workers.map((w) => ({
      workerId: w.workerId,
      ...(this.statuses.get(w.workerId) ?? { state: 'running', nativeStatus: 'alive' }),
    }));
  }
  async kill(): Promise<void> {}
  async sweep(): Promise<void> {}
}

export const queue = (
  name: string,
  over: Partial<Queue> = {},
  h: Partial<NonNullable<Queue['harvester']>> = {},
): Queue => ({
  name,
  site: 'SLAC',
  status: 'online',
  corecount: 1,
  minrssMb: 0,
  maxrssMb: 4000,
  maxtimeS: 86400,
  harvester: {
    submitter: 'local',
    mode: 'pull',
    maxWorkers: 4,
    nQueueLimitWorker: 2,
    maxNewWorkersPerCycle: 2,
    paramsJson: '{}',
    ...h,
  },
  timeouts: undefined,
  resource: undefined,
  ...over,
});

export function fakeQueues(
  queues: Queue[],
  activated: Record<string, number>,
): QueueClient & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    listQueues: async () => ({ queues }),
    queueStats: async (req: { queues: string[] }) => {
      asked.push(req.queues);
      const stats: QueueStats[] = req.queues.map((q) => ({
        queue: q,
        activated: activated[q] ?? 0,
        sent: 0,
        starting: 0,
        running: 0,
        throttled: 0,
        holding: 0,
      }));
      return { stats };
    },
  } as unknown as QueueClient & { asked: string[][] };
}

export const signal: AbortSignal = new AbortController().signal;
let ids = 0;
export const newWorkerId = () => `w${++ids}`;
