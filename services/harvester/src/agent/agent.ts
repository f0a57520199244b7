import { randomUUID } from 'node:crypto';
import { IllegalTransitionError } from '@panda/platform';
import type { Logger } from '@panda/platform';
import type { Queue, QueueServiceClient } from '@panda/proto';
import { adjust } from '../adjuster/adjuster.js';
import type { AdjusterBound, AdjusterDecision } from '../adjuster/adjuster.js';
import type { PushedJob, SubmitterPlugin, WorkerRef, WorkerStatus } from '../plugins/types.js';
import type { TokenSubject } from '../tokens/issuer.js';
import { workerTransitions } from '../workers/states.js';
import type { WorkerRow, WorkerStore } from '../workers/store.js';
import { pushedJob } from './push.js';
import type { JobPusher } from './push.js';

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
  /** Signs each worker's gateway token; without it workers get none. */
  issueToken?: (subject: TokenSubject) => string;
  /** Acquires jobs for push queues (`harvester.mode: push`); without it those are skipped. */
  pusher?: Pick<JobPusher, 'acquire' | 'markStarting'>;
  /** Told how each submission went (metrics). */
  onSubmission?: (queue: string, outcome: 'submitted' | 'failed') => void;
  /** Told, after each submitter step, the jobs and workers of every queue (PandaQueue status). */
  onQueues?: (queues: QueueCounts[]) => Promise<void>;
}

/** Jobs and workers of one queue after a submitter step. */
export interface QueueCounts {
  queue: Queue;
  activatedJobs: number;
  runningJobs: number;
  /** Workers in `submitted`. */
  submittedWorkers: number;
  /** Workers in `running` or `idle`. */
  runningWorkers: number;
}

/** One queue as the adjuster sees it now, and what it would do. */
export interface QueuePlan {
  queue: Queue;
  /** False when no plugin here serves it (or cannot push for it). */
  served: boolean;
  activated: number;
  runningJobs: number;
  /** Workers in `submitted`. */
  queued: number;
  /** Workers in `running` or `idle`. */
  running: number;
  decision: Omit<AdjusterDecision, 'boundBy'> & { boundBy: AdjusterBound | 'not_served' };
}

export interface CyclePlan {
  queues: QueuePlan[];
  maxWorkersTotal: number;
  /** Active workers the global cap allows on top of those there now. */
  totalRemaining: number;
}

/** What one submitter step starts from: the queues, their jobs and this harvester's workers. */
interface Snapshot {
  queues: Queue[];
  stats: Map<string, { activated: number; running: number }>;
  counts: Map<string, { queued: number; running: number }>;
  active: number;
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
        if (!worker) continue;
        if (worker.state === status.state) {
          // No change but a better log URL (Kubernetes: the pod's, once it exists).
          if (status.logUrl && status.logUrl !== worker.logUrl)
            await this.recordLogUrl(worker, status.logUrl);
          continue;
        }
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

  /** Records a worker's new log URL; its state stays (no event). */
  private async recordLogUrl(worker: WorkerRow, logUrl: string): Promise<void> {
    try {
      await this.o.store.move(worker.workerId, worker.state, { logUrl });
    } catch (err) {
      if (!(err instanceof IllegalTransitionError)) throw err;
    }
  }

  private async record(status: WorkerStatus): Promise<boolean> {
    const { workerId, state, exitCode, errorCode, diag, nativeStatus, logUrl } = status;
    try {
      const row = await this.o.store.move(workerId, state, {
        exitCode,
        errorCode,
        diag,
        nativeStatus,
        logUrl,
      });
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

  /** Queues, their job statistics and this harvester's active workers, read once per step. */
  private async snapshot(signal: AbortSignal): Promise<Snapshot> {
    const { queues } = await this.o.queues.listQueues({}, { signal });
    const stats = new Map<string, { activated: number; running: number }>();
    if (queues.length > 0) {
      const res = await this.o.queues.queueStats({ queues: queues.map((q) => q.name) }, { signal });
      for (const s of res.stats) stats.set(s.queue, { activated: s.activated, running: s.running });
    }
    const counts = await this.o.store.activeCounts();
    let active = 0;
    for (const c of counts.values()) active += c.queued + c.running;
    return { queues, stats, counts, active };
  }

  private decide(queue: Queue, snap: Snapshot, active: number): AdjusterDecision {
    const h = queue.harvester!;
    const mine = snap.counts.get(queue.name) ?? { queued: 0, running: 0 };
    return adjust({
      status: queue.status,
      mode: h.mode,
      activated: snap.stats.get(queue.name)?.activated ?? 0,
      queued: mine.queued,
      running: mine.running,
      nQueueLimitWorker: h.nQueueLimitWorker,
      maxWorkers: h.maxWorkers,
      maxNewWorkersPerCycle: h.maxNewWorkersPerCycle,
      globalRemaining: this.o.maxWorkersTotal - active,
    });
  }

  /**
   * What the submitter step would do now, per queue (every queue of the catalogue, served or
   * not): limits, jobs, workers and the adjuster's answer with what bound it. Queues are taken in
   * catalogue order, each counting the workers the ones before it would get.
   */
  async plan(signal: AbortSignal): Promise<CyclePlan> {
    const snap = await this.snapshot(signal);
    let active = snap.active;
    const queues = snap.queues.map((queue): QueuePlan => {
      const mine = snap.counts.get(queue.name) ?? { queued: 0, running: 0 };
      const stats = snap.stats.get(queue.name);
      const base = { queue, activated: stats?.activated ?? 0, runningJobs: stats?.running ?? 0, ...mine };
      const why = this.whyNotServed(queue);
      if (why) return { ...base, served: false, decision: { n: 0, boundBy: 'not_served', reason: why } };
      const decision = this.decide(queue, snap, active);
      active += decision.n;
      return { ...base, served: true, decision };
    });
    return {
      queues,
      maxWorkersTotal: this.o.maxWorkersTotal,
      totalRemaining: Math.max(this.o.maxWorkersTotal - snap.active, 0),
    };
  }

  /** Computes new workers per queue and submits them; returns how many per queue. */
  async submit(signal: AbortSignal): Promise<Record<string, number>> {
    const snap = await this.snapshot(signal);
    let active = snap.active;
    const submitted: Record<string, number> = {};
    for (const queue of snap.queues.filter((q) => this.servedBy(q))) {
      if (signal.aborted) break;
      const { n } = this.decide(queue, snap, active);
      if (n === 0) continue;
      this.o.logger.debug(
        {
          queue: queue.name,
          n,
          ...snap.counts.get(queue.name),
          activated: snap.stats.get(queue.name)?.activated,
        },
        'new workers',
      );
      let done = 0;
      for (let i = 0; i < n && !signal.aborted; i++) {
        const outcome = await this.submitOne(queue, this.plugins.get(queue.harvester!.submitter)!, signal);
        if (outcome === 'nojob') break;
        if (outcome === 'submitted') done++;
        this.o.onSubmission?.(queue.name, outcome);
      }
      active += done;
      submitted[queue.name] = done;
    }
    await this.report(snap, submitted);
    return submitted;
  }

  /** Hands every queue's counts to `onQueues`; a failure there is logged, never fails the cycle. */
  private async report(snap: Snapshot, submitted: Record<string, number>): Promise<void> {
    if (!this.o.onQueues) return;
    const rows = snap.queues.map((queue) => {
      const mine = snap.counts.get(queue.name) ?? { queued: 0, running: 0 };
      const stats = snap.stats.get(queue.name);
      return {
        queue,
        activatedJobs: stats?.activated ?? 0,
        runningJobs: stats?.running ?? 0,
        submittedWorkers: mine.queued + (submitted[queue.name] ?? 0),
        runningWorkers: mine.running,
      };
    });
    try {
      await this.o.onQueues(rows);
    } catch (err) {
      this.o.logger.warn({ err }, 'queue counts not reported');
    }
  }

  /** Why this harvester does not serve a queue; undefined when it does. */
  private whyNotServed(queue: Queue): string | undefined {
    const submitter = queue.harvester?.submitter ?? '';
    const plugin = this.plugins.get(submitter);
    if (!plugin) return `not served: no ${submitter || 'submitter'} plugin here`;
    if (queue.harvester?.mode === 'push' && !(plugin.supportsPush && this.o.pusher))
      return `not served: the ${submitter} plugin cannot hand jobs to push workers`;
    return undefined;
  }

  private servedBy(queue: Queue): boolean {
    const why = this.whyNotServed(queue);
    if (!why) return true;
    if (!this.skippedLogged.has(queue.name)) {
      this.skippedLogged.add(queue.name);
      this.o.logger.debug(
        { queue: queue.name, submitter: queue.harvester?.submitter },
        `queue skipped: ${why}`,
      );
    }
    return false;
  }

  /**
   * Records the worker and hands it to the plugin; a refused submission ends as `missed`. For a
   * push queue a job is acquired for the worker first (`nojob`: none left, no worker made) and
   * moved to `starting`; should the worker end up `missed`, server fails that job (worker gone).
   */
  private async submitOne(
    queue: Queue,
    plugin: SubmitterPlugin,
    signal: AbortSignal,
  ): Promise<'submitted' | 'failed' | 'nojob'> {
    const workerId = (this.o.newWorkerId ?? randomUUID)();
    const cores = Math.max(queue.corecount, 1);
    const memoryMb = queue.maxrssMb;
    const push = queue.harvester?.mode === 'push' ? this.o.pusher : undefined;
    const acquired = push ? await push.acquire(queue, workerId, signal) : undefined;
    if (push && !acquired) return 'nojob';
    const walltimeS = queue.maxtimeS;
    await this.o.store.create({
      workerId,
      queue: queue.name,
      submitter: plugin.name,
      cores,
      memoryMb,
      walltimeS,
    });
    try {
      let job: PushedJob | undefined;
      if (push && acquired) {
        await push.markStarting(acquired, workerId);
        job = pushedJob(acquired);
        this.o.logger.info({ workerId, queue: queue.name, pandaId: job.pandaId }, 'job pushed to new worker');
      }
      const result = await plugin.submit({
        workerId,
        queue: queue.name,
        cores,
        memoryMb,
        walltimeS,
        params: parseParams(queue.harvester?.paramsJson ?? ''),
        token: this.o.issueToken?.({ workerId, queue: queue.name, maxtimeS: queue.maxtimeS }),
        job,
      });
      await this.o.store.move(workerId, result.state ?? 'submitted', {
        batchId: result.batchId,
        nativeStatus: result.nativeStatus,
        walltimeS: result.walltimeS ?? walltimeS,
        logUrl: result.logUrl,
      });
      return 'submitted';
    } catch (err) {
      this.o.logger.error({ err, workerId, queue: queue.name }, 'worker submission failed');
      const diag = `submission failed: ${(err as Error).message}`.slice(0, 500);
      await this.o.store.move(workerId, 'missed', { diag, nativeStatus: 'submit failed' });
      return 'failed';
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
