import { randomUUID } from 'node:crypto';
import { IllegalTransitionError } from '@panda/platform';
import type { Logger } from '@panda/platform';
import type { Queue, QueueServiceClient } from '@panda/proto';
import { newWorkerCount } from '../adjuster/adjuster.js';
import type { SubmitterPlugin, WorkerRef, WorkerStatus } from '../plugins/types.js';
import { workerTransitions } from '../workers/states.js';
import type { WorkerStore } from '../workers/store.js';

/** The part of server's QueueService harvester calls (tests pass a fake). */
export type QueueClient = Pick<QueueServiceClient, 'listQueues' | 'queueStats'>;

export interface HarvesterAgentOptions {
  queues: QueueClient;
  store: Pick<WorkerStore, 'create' | 'move' | 'active' | 'activeCounts'>;
  /** By submitter name (`local`); queues of other submitters are skipped. */
  plugins: SubmitterPlugin[];
  logger: Logger;
  /** Cap on active workers over all queues. */
  maxWorkersTotal: number;
  newWorkerId?: () => string;
}

export interface CycleReport {
  /** New workers per queue. */
  submitted: Record<string, number>;
  /** Workers whose state changed in the monitor step. */
  updated: number;
}

/**
 * One harvester cycle: the monitor step (ask each plugin about its active workers, record
 * changes) and the submitter step (worker adjuster per queue, then submit).
 */
export class HarvesterAgent {
  private readonly plugins: Map<string, SubmitterPlugin>;
  private readonly skippedLogged = new Set<string>();

  constructor(private readonly o: HarvesterAgentOptions) {
    this.plugins = new Map(o.plugins.map((p) => [p.name, p]));
  }

  async cycle(signal: AbortSignal): Promise<CycleReport> {
    const updated = await this.monitor();
    if (signal.aborted) return { submitted: {}, updated };
    const submitted = await this.submit(signal);
    return { submitted, updated };
  }

  /** Checks every active worker with its plugin and records what changed. */
  async monitor(): Promise<number> {
    let updated = 0;
    for (const plugin of this.plugins.values()) {
      const workers = await this.o.store.active(plugin.name);
      if (workers.length === 0) continue;
      const byId = new Map(workers.map((w) => [w.workerId, w]));
      const statuses = await plugin.check(workers);
      for (const status of statuses) {
        const worker = byId.get(status.workerId);
        if (!worker || worker.state === status.state) continue;
        if (!(await this.record(status))) continue;
        updated++;
        if (plugin.sweepOnEnd && workerTransitions.isFinal(status.state)) await this.sweep(plugin, worker);
      }
    }
    return updated;
  }

  private async sweep(plugin: SubmitterPlugin, worker: WorkerRef): Promise<void> {
    try {
      await plugin.sweep(worker);
    } catch (err) {
      this.o.logger.warn({ err, workerId: worker.workerId }, 'sweep failed');
    }
  }

  private async record(status: WorkerStatus): Promise<boolean> {
    const { workerId, state, exitCode, errorCode, diag, nativeStatus } = status;
    try {
      const row = await this.o.store.move(workerId, state, { exitCode, errorCode, diag, nativeStatus });
      if (row)
        this.o.logger.info(
          { workerId, queue: row.queue, state, exitCode, errorCode, diag },
          'worker state changed',
        );
      return row !== undefined;
    } catch (err) {
      if (!(err instanceof IllegalTransitionError)) throw err;
      this.o.logger.warn({ workerId, err: err.message }, 'worker status not recorded');
      return false;
    }
  }

  /** Computes new workers per queue and submits them; returns how many per queue. */
  async submit(signal: AbortSignal): Promise<Record<string, number>> {
    const { queues } = await this.o.queues.listQueues({}, { signal });
    const served = queues.filter((q) => this.servedBy(q));
    if (served.length === 0) return {};
    const { stats } = await this.o.queues.queueStats({ queues: served.map((q) => q.name) }, { signal });
    const activated = new Map(stats.map((s) => [s.queue, s.activated]));
    const counts = await this.o.store.activeCounts();
    let active = 0;
    for (const c of counts.values()) active += c.queued + c.running;

    const submitted: Record<string, number> = {};
    for (const queue of served) {
      if (signal.aborted) break;
      const h = queue.harvester!;
      const mine = counts.get(queue.name) ?? { queued: 0, running: 0 };
      const n = newWorkerCount({
        status: queue.status,
        mode: h.mode,
        activated: activated.get(queue.name) ?? 0,
        queued: mine.queued,
        running: mine.running,
        nQueueLimitWorker: h.nQueueLimitWorker,
        maxWorkers: h.maxWorkers,
        maxNewWorkersPerCycle: h.maxNewWorkersPerCycle,
        globalRemaining: this.o.maxWorkersTotal - active,
      });
      if (n === 0) continue;
      this.o.logger.debug(
        { queue: queue.name, n, ...mine, activated: activated.get(queue.name) },
        'new workers',
      );
      let done = 0;
      for (let i = 0; i < n && !signal.aborted; i++) {
        if (await this.submitOne(queue, this.plugins.get(h.submitter)!)) done++;
      }
      active += done;
      submitted[queue.name] = done;
    }
    return submitted;
  }

  private servedBy(queue: Queue): boolean {
    const submitter = queue.harvester?.submitter ?? '';
    if (this.plugins.has(submitter)) return true;
    if (!this.skippedLogged.has(queue.name)) {
      this.skippedLogged.add(queue.name);
      this.o.logger.debug({ queue: queue.name, submitter }, 'queue skipped: no plugin for its submitter yet');
    }
    return false;
  }

  /** Records the worker, hands it to the plugin; a refused submission ends as `missed`. */
  private async submitOne(queue: Queue, plugin: SubmitterPlugin): Promise<boolean> {
    const workerId = (this.o.newWorkerId ?? randomUUID)();
    const cores = Math.max(queue.corecount, 1);
    const memoryMb = queue.maxrssMb;
    await this.o.store.create({ workerId, queue: queue.name, submitter: plugin.name, cores, memoryMb });
    try {
      const result = await plugin.submit({
        workerId,
        queue: queue.name,
        cores,
        memoryMb,
        walltimeS: queue.maxtimeS,
        params: parseParams(queue.harvester?.paramsJson ?? ''),
      });
      await this.o.store.move(workerId, result.state ?? 'submitted', {
        batchId: result.batchId,
        nativeStatus: result.nativeStatus,
      });
      return true;
    } catch (err) {
      this.o.logger.error({ err, workerId, queue: queue.name }, 'worker submission failed');
      const diag = `submission failed: ${(err as Error).message}`.slice(0, 500);
      await this.o.store.move(workerId, 'missed', { diag, nativeStatus: 'submit failed' });
      return false;
    }
  }
}

function parseParams(json: string): Record<string, unknown> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
