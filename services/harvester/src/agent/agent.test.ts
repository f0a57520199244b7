import { createLogger, verifyPilotToken } from '@panda/platform';
import type { AcquireJobsRequest, Job, Queue, QueueStats, UpdateJobsRequest } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import type { SubmitResult, SubmitterPlugin, WorkerRef, WorkerSpec, WorkerStatus } from '../plugins/types.js';
import { workerTransitions } from '../workers/states.js';
import type { WorkerState } from '../workers/states.js';
import type { NewWorker, QueueWorkerCounts, WorkerPatch, WorkerRow } from '../workers/store.js';
import { tokenIssuer } from '../tokens/issuer.js';
import { HarvesterAgent } from './agent.js';
import type { QueueClient } from './agent.js';
import { JobPusher } from './push.js';
import type { DispatchClient } from './push.js';

const logger = createLogger({ service: 'harvester-test', level: 'silent' });

/** In-memory stand-in for WorkerStore with the same transition rules. */
class MemoryStore {
  readonly rows = new Map<string, WorkerRow>();
  readonly events: { workerId: string; from: string; to: WorkerState }[] = [];

  async create(w: NewWorker): Promise<void> {
    this.rows.set(w.workerId, {
      ...w,
      state: 'submitted',
      batchId: '',
      submittedAt: new Date(),
      startedAt: null,
      endedAt: null,
      exitCode: null,
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

class FakePlugin implements SubmitterPlugin {
  readonly name = 'local';
  supportsPush = true;
  readonly submitted: WorkerSpec[] = [];
  readonly statuses = new Map<string, Omit<WorkerStatus, 'workerId'>>();
  failNext = false;

  async submit(spec: WorkerSpec): Promise<SubmitResult> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('no more pids');
    }
    this.submitted.push(spec);
    return { batchId: String(1000 + this.submitted.length), state: 'running' };
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

const queue = (
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
  ...over,
});

function fakeQueues(queues: Queue[], activated: Record<string, number>): QueueClient & { asked: string[][] } {
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
      }));
      return { stats };
    },
  } as unknown as QueueClient & { asked: string[][] };
}

const signal = new AbortController().signal;
let ids = 0;
const newWorkerId = () => `w${++ids}`;

describe('HarvesterAgent', () => {
  it('submits per the adjuster, only to queues it has a plugin for', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const queues = fakeQueues(
      [
        queue('A', { maxrssMb: 8000, corecount: 2 }),
        queue('K8S', {}, { submitter: 'kubernetes' }),
        queue('OFF', { status: 'brokeroff' }),
        queue('EMPTY'),
      ],
      { A: 10, K8S: 10, OFF: 10 },
    );
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    const report = await agent.cycle(signal);
    expect(report.submitted).toEqual({ A: 2 });
    expect(queues.asked).toEqual([['A', 'K8S', 'OFF', 'EMPTY']]);
    expect(plugin.submitted.map((s) => [s.queue, s.cores, s.memoryMb, s.walltimeS])).toEqual([
      ['A', 2, 8000, 86400],
      ['A', 2, 8000, 86400],
    ]);
    const rows = [...store.rows.values()];
    expect(rows.map((r) => [r.state, r.batchId])).toEqual([
      ['running', '1001'],
      ['running', '1002'],
    ]);
    expect(store.events.map((e) => `${e.from}>${e.to}`)).toEqual([
      '>submitted',
      'submitted>running',
      '>submitted',
      'submitted>running',
    ]);
  });

  it('stops at maxWorkers and at the global cap', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const queues = fakeQueues([queue('A'), queue('B')], { A: 10, B: 10 });
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 5,
      newWorkerId,
    });
    await agent.cycle(signal); // A 2, B 2
    await agent.cycle(signal); // A 1 (global cap 5 reached), B 0
    await agent.cycle(signal); // nothing
    const counts = await store.activeCounts();
    expect(counts.get('A')).toEqual({ queued: 0, running: 3 });
    expect(counts.get('B')).toEqual({ queued: 0, running: 2 });

    // maxWorkers of a queue, with room left globally.
    const store2 = new MemoryStore();
    const agent2 = new HarvesterAgent({
      queues: fakeQueues([queue('A')], { A: 10 }),
      store: store2,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 100,
      newWorkerId,
    });
    for (let i = 0; i < 4; i++) await agent2.cycle(signal);
    expect((await store2.activeCounts()).get('A')).toEqual({ queued: 0, running: 4 });
  });

  it('records what the plugin observed and frees room for new workers', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const queues = fakeQueues([queue('A', {}, { maxWorkers: 2 })], { A: 10 });
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    await agent.cycle(signal);
    const [first, second] = [...store.rows.keys()];
    plugin.statuses.set(first!, { state: 'finished', exitCode: 0, nativeStatus: 'exited 0' });
    plugin.statuses.set(second!, {
      state: 'failed',
      exitCode: 3,
      diag: 'pilot exited with code 3',
      nativeStatus: 'exited 3',
    });
    const report = await agent.cycle(signal);
    expect(report.updated).toBe(2);
    expect(store.rows.get(second!)).toMatchObject({
      state: 'failed',
      exitCode: 3,
      diag: 'pilot exited with code 3',
    });
    expect(report.submitted).toEqual({ A: 2 });
  });

  it('marks a refused submission missed', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    plugin.failNext = true;
    const queues = fakeQueues([queue('A')], { A: 1 });
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    const report = await agent.cycle(signal);
    expect(report.submitted).toEqual({ A: 0 });
    const [row] = [...store.rows.values()];
    expect(row).toMatchObject({ state: 'missed', diag: 'submission failed: no more pids' });
  });

  it('plans every queue: limits, workers and what bound the adjuster', async () => {
    // given a served queue with one running worker, an offline one and one of another submitter
    const store = new MemoryStore();
    const queues = fakeQueues(
      [
        queue('A', {}, { maxWorkers: 2 }),
        queue('OFF', { status: 'offline' }),
        queue('K8S', {}, { submitter: 'kubernetes' }),
      ],
      { A: 10, OFF: 3, K8S: 4 },
    );
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [new FakePlugin()],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    await store.create({ workerId: 'x1', queue: 'A', submitter: 'local', cores: 1, memoryMb: 1 });
    await store.move('x1', 'running');

    // when the plan is asked for
    const plan = await agent.plan(signal);

    // then each queue says what the adjuster would do and why, and nothing was submitted
    const by = Object.fromEntries(plan.queues.map((q) => [q.queue.name, q]));
    expect(by.A).toMatchObject({ served: true, activated: 10, running: 1, queued: 0 });
    expect(by.A!.decision).toEqual({
      n: 1,
      boundBy: 'max_workers',
      reason: '1 new: maxWorkers 2 - 0 queued - 1 running',
    });
    expect(by.OFF).toMatchObject({ served: true, decision: { n: 0, boundBy: 'status' } });
    expect(by.K8S).toMatchObject({ served: false, activated: 4, decision: { n: 0, boundBy: 'not_served' } });
    expect(plan).toMatchObject({ maxWorkersTotal: 8, totalRemaining: 7 });
    expect(store.rows.size).toBe(1);
  });

  it('reports the counts of every queue after the submitter step, and survives a failing report', async () => {
    const store = new MemoryStore();
    const reports: {
      name: string;
      activatedJobs: number;
      submittedWorkers: number;
      runningWorkers: number;
    }[][] = [];
    let fail = false;
    const agent = new HarvesterAgent({
      queues: fakeQueues([queue('A'), queue('B', { status: 'offline' })], { A: 10, B: 2 }),
      store,
      plugins: [new FakePlugin()],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
      onQueues: async (rows) => {
        if (fail) throw new Error('API down');
        reports.push(rows.map((r) => ({ name: r.queue.name, ...r, queue: undefined })));
      },
    });
    await agent.cycle(signal);
    expect(reports[0]).toEqual([
      expect.objectContaining({ name: 'A', activatedJobs: 10, submittedWorkers: 2, runningWorkers: 0 }),
      expect.objectContaining({ name: 'B', activatedJobs: 2, submittedWorkers: 0, runningWorkers: 0 }),
    ]);
    fail = true;
    expect((await agent.cycle(signal)).submitted).toEqual({ A: 2 });
  });

  it('submits nothing once the signal is aborted', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const agent = new HarvesterAgent({
      queues: fakeQueues([queue('A')], { A: 5 }),
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
    });
    const ac = new AbortController();
    ac.abort();
    expect(await agent.cycle(ac.signal)).toEqual({ submitted: {}, updated: 0 });
    expect(plugin.submitted).toHaveLength(0);
  });
});

/** server's DispatchService as far as push mode uses it: activated jobs, sent, starting. */
class FakeDispatch implements DispatchClient {
  readonly jobs: Job[];
  refuseStarting = false;

  constructor(n: number) {
    this.jobs = Array.from(
      { length: n },
      (_, i) => ({ pandaId: 100 + i, state: 'activated', attemptNr: 1 }) as Job,
    );
  }

  acquireJobs = async (req: AcquireJobsRequest) => {
    const job = this.jobs.find((j) => j.state === 'activated');
    if (!job) return { jobs: [] };
    Object.assign(job, { state: 'sent', workerId: req.workerId, createdAt: new Date(0), command: 'true' });
    return { jobs: [{ ...job }] };
  };

  updateJobs = async (req: UpdateJobsRequest) => ({
    results: req.updates.map((u) => {
      const job = this.jobs.find((j) => j.pandaId === u.pandaId)!;
      if (this.refuseStarting)
        return { pandaId: u.pandaId, result: 'illegal', state: job.state, commandToPilot: '', message: 'no' };
      job.state = u.state;
      return { pandaId: u.pandaId, result: 'ok', state: job.state, commandToPilot: '', message: '' };
    }),
  });
}

describe('HarvesterAgent, push queues and tokens', () => {
  const secret = 'a-secret-shared-with-the-gateway';
  const pushQueue = queue('P', {}, { mode: 'push', nQueueLimitWorker: 3, maxNewWorkersPerCycle: 3 });
  const setup = (dispatchJobs: number, activated: number) => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const dispatch = new FakeDispatch(dispatchJobs);
    const agent = new HarvesterAgent({
      queues: fakeQueues([pushQueue, queue('A')], { P: activated, A: 1 }),
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
      issueToken: tokenIssuer({ secret, marginS: 60 }),
      pusher: new JobPusher(dispatch, 'harvester-node'),
    });
    return { store, plugin, dispatch, agent };
  };

  it('acquires a job per push worker, moves it to starting and hands it over with a token', async () => {
    // given a push queue with 2 activated jobs (the stats say 3: one was taken meanwhile)
    const { store, plugin, dispatch, agent } = setup(2, 3);

    // when a cycle runs
    const report = await agent.cycle(signal);

    // then two push workers were made, each holding its own job in starting
    expect(report.submitted).toEqual({ P: 2, A: 1 });
    const pushed = plugin.submitted.filter((s) => s.queue === 'P');
    expect(pushed.map((s) => s.job?.pandaId)).toEqual([100, 101]);
    for (const spec of pushed) {
      const job = dispatch.jobs.find((j) => j.pandaId === spec.job!.pandaId)!;
      expect(job).toMatchObject({ state: 'starting', workerId: spec.workerId });
      expect(spec.job!.json).toMatchObject({
        pandaId: job.pandaId,
        state: 'starting',
        createdAt: new Date(0).toISOString(),
      });
    }
    // and every worker, push or pull, got a token naming it and its queue
    for (const spec of plugin.submitted) {
      expect(verifyPilotToken(spec.token!, secret)).toMatchObject({
        workerId: spec.workerId,
        queue: spec.queue,
      });
    }
    expect(plugin.submitted.find((s) => s.queue === 'A')?.job).toBeUndefined();
    // and no worker was recorded for the third, empty acquisition
    expect([...store.rows.values()].filter((r) => r.queue === 'P')).toHaveLength(2);
  });

  it('marks the worker missed and starts nothing when the server refuses starting', async () => {
    const { store, plugin, dispatch, agent } = setup(1, 1);
    dispatch.refuseStarting = true;
    const report = await agent.cycle(signal);
    expect(report.submitted.P).toBe(0);
    expect(plugin.submitted.filter((s) => s.queue === 'P')).toEqual([]);
    const [row] = [...store.rows.values()].filter((r) => r.queue === 'P');
    expect(row).toMatchObject({
      state: 'missed',
      diag: expect.stringMatching(/refused job 100 in starting: illegal/),
    });
  });

  it('skips push queues whose plugin cannot hand jobs over', async () => {
    const { plugin, dispatch, agent } = setup(2, 2);
    plugin.supportsPush = false;
    expect((await agent.cycle(signal)).submitted).toEqual({ A: 1 });
    expect(dispatch.jobs.every((j) => j.state === 'activated')).toBe(true);
  });
});
