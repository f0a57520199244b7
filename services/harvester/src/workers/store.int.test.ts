import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  closeBus,
  connectBus,
  createGrpcClient,
  createGrpcServer,
  createLogger,
  Database,
  ensureEventsStream,
  EVENTS_STREAM,
  IllegalTransitionError,
  listenGrpc,
  openChannel,
  Outbox,
} from '@panda/platform';
import type { Bus } from '@panda/platform';
import { WorkerChanged, WorkerServiceDefinition } from '@panda/proto';
import type { Queue } from '@panda/proto';
import { Status } from 'nice-grpc-common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HarvesterAgent } from '../agent/agent.js';
import type { QueueClient } from '../agent/agent.js';
import { workerService } from '../grpc/worker-service.js';
import { LocalSubmitter } from '../plugins/local.js';
import { harvesterMigrations } from './migrations.js';
import { WorkerStore } from './store.js';

const logger = createLogger({ service: 'harvester-int', level: 'silent' });
const schema = `harvester_it_${process.pid}_${Date.now()}`;
const run = `${process.pid}-${Date.now()}`;
const id = (n: string) => `${run}-${n}`;

let db: Database;
let bus: Bus;
let outbox: Outbox;
let store: WorkerStore;
const stop = new AbortController();

beforeAll(async () => {
  db = await Database.connect({
    url: inject('pgUrl'),
    schema,
    migrations: harvesterMigrations(schema),
    poolSize: 4,
  });
  await db.migrate();
  bus = await connectBus({ url: inject('natsUrl'), name: 'harvester-int', logger });
  await ensureEventsStream(bus.jsm);
  outbox = new Outbox(db, bus.js, logger, { pollMs: 50 });
  outbox.start(stop.signal);
  store = new WorkerStore(db, outbox, logger);
});

afterAll(async () => {
  stop.abort();
  await outbox?.stopped();
  if (bus) await closeBus(bus);
  await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db?.close();
});

/** Collects WorkerChanged events of the given workers until `count` arrived. */
async function workerEvents(
  workerIds: string[],
  count: number,
): Promise<{ subject: string; event: WorkerChanged }[]> {
  const wanted = new Set(workerIds);
  const consumer = await bus.js.consumers.get(EVENTS_STREAM, { filter_subjects: 'panda.worker.>' });
  const messages = await consumer.consume();
  const seen: { subject: string; event: WorkerChanged }[] = [];
  const timer = setTimeout(() => messages.stop(), 10_000);
  for await (const m of messages) {
    const event = WorkerChanged.decode(m.data);
    if (wanted.has(event.workerId)) seen.push({ subject: m.subject, event });
    if (seen.length >= count) break;
  }
  clearTimeout(timer);
  messages.stop();
  return seen;
}

describe('WorkerStore', () => {
  it('records each state change with a panda.worker.<state> event', async () => {
    const w = id('a');
    await store.create({ workerId: w, queue: 'Q1', submitter: 'local', cores: 1, memoryMb: 4000 });
    const running = await store.move(w, 'running', { batchId: '123', nativeStatus: 'spawned' });
    expect(running).toMatchObject({ state: 'running', batchId: '123' });
    expect(running!.startedAt).toBeInstanceOf(Date);
    const failed = await store.move(w, 'failed', { exitCode: 3, diag: 'boom' });
    expect(failed).toMatchObject({ state: 'failed', exitCode: 3, diag: 'boom' });
    expect(failed!.endedAt).toBeInstanceOf(Date);

    const events = await workerEvents([w], 3);
    expect(events.map((e) => [e.subject, e.event.previousState, e.event.state])).toEqual([
      ['panda.worker.submitted', '', 'submitted'],
      ['panda.worker.running', 'submitted', 'running'],
      ['panda.worker.failed', 'running', 'failed'],
    ]);
    expect(events[2]!.event).toMatchObject({ queue: 'Q1', exitCode: 3, diag: 'boom' });
  });

  it("stores a worker's walltime and log URL: asked for at creation, the submission's result after", async () => {
    const w = id('log');
    await store.create({
      workerId: w,
      queue: 'Q_LOG',
      submitter: 'kubernetes',
      cores: 4,
      memoryMb: 8000,
      walltimeS: 86400,
    });
    expect((await store.list({ queue: 'Q_LOG', limit: 10 }))[0]).toMatchObject({
      walltimeS: 86400,
      logUrl: '',
    });
    const pods = '/api/v1/namespaces/ns/pods?labelSelector=panda%2Fworker%3Dx';
    await store.move(w, 'submitted', { batchId: 'panda-x', walltimeS: 3600, logUrl: pods });
    // a later patch without them keeps them; a better log URL replaces the first
    await store.move(w, 'running', { nativeStatus: 'Running' });
    expect((await store.active('kubernetes')).find((r) => r.workerId === w)).toMatchObject({
      walltimeS: 3600,
      logUrl: pods,
    });
    const podLog = '/api/v1/namespaces/ns/pods/panda-x-abcde/log';
    const row = await store.move(w, 'running', { logUrl: podLog });
    expect(row).toMatchObject({ cores: 4, memoryMb: 8000, walltimeS: 3600, logUrl: podLog });
    // and a worker created without them gets 0 and ''
    await store.create({ workerId: id('log0'), queue: 'Q_LOG', submitter: 'local', cores: 1, memoryMb: 0 });
    const rows = await store.list({ queue: 'Q_LOG', limit: 10 });
    expect(rows.find((r) => r.workerId === id('log0'))).toMatchObject({ walltimeS: 0, logUrl: '' });
  });

  it('ignores stale updates of final workers and refuses illegal moves', async () => {
    const w = id('b');
    await store.create({ workerId: w, queue: 'Q1', submitter: 'local', cores: 1, memoryMb: 0 });
    await store.move(w, 'running');
    await expect(store.move(w, 'submitted')).rejects.toBeInstanceOf(IllegalTransitionError);
    await store.move(w, 'cancelled');
    expect(await store.move(w, 'finished')).toBeUndefined();
    const [row] = await store.list({ queue: 'Q1', state: 'cancelled', limit: 10 });
    expect(row?.workerId).toBe(w);
  });

  it('counts active workers per queue', async () => {
    await store.create({ workerId: id('c1'), queue: 'Q2', submitter: 'local', cores: 1, memoryMb: 0 });
    await store.create({ workerId: id('c2'), queue: 'Q2', submitter: 'local', cores: 1, memoryMb: 0 });
    await store.move(id('c2'), 'idle');
    const counts = await store.activeCounts();
    expect(counts.get('Q2')).toEqual({ queued: 1, running: 1 });
    expect((await store.active('local')).map((r) => r.workerId)).toEqual(
      expect.arrayContaining([id('c1'), id('c2')]),
    );
    expect(await store.active('slurm')).toEqual([]);
  });

  it('counts workers by queue and state, final states included (the metrics gauge)', async () => {
    for (const [n, state] of [
      ['m1', 'running'],
      ['m2', 'running'],
      ['m3', 'failed'],
    ] as const) {
      await store.create({ workerId: id(n), queue: 'Q_METRICS', submitter: 'local', cores: 1, memoryMb: 0 });
      await store.move(id(n), state);
    }
    await store.create({ workerId: id('m4'), queue: 'Q_METRICS', submitter: 'local', cores: 1, memoryMb: 0 });
    const rows = (await store.countsByQueueAndState()).filter((r) => r.queue === 'Q_METRICS');
    expect(rows).toEqual([
      { queue: 'Q_METRICS', state: 'failed', count: 1 },
      { queue: 'Q_METRICS', state: 'running', count: 2 },
      { queue: 'Q_METRICS', state: 'submitted', count: 1 },
    ]);
  });
});

/** A queue of the catalogue as server's QueueService returns it. */
const catalogueQueue = (name: string, h: Partial<NonNullable<Queue['harvester']>> = {}): Queue => ({
  name,
  site: 'SLAC',
  status: 'online',
  corecount: 1,
  minrssMb: 0,
  maxrssMb: 2000,
  maxtimeS: 3600,
  harvester: {
    submitter: 'local',
    mode: 'pull',
    maxWorkers: 2,
    nQueueLimitWorker: 2,
    maxNewWorkersPerCycle: 2,
    paramsJson: '{}',
    ...h,
  },
  timeouts: undefined,
  resource: undefined,
});

/** An agent (with no plugin) over a fixed catalogue and statistics, for WorkerService. */
const planner = (queues: Queue[], activated: Record<string, number>) =>
  new HarvesterAgent({
    queues: {
      listQueues: async () => ({ queues }),
      queueStats: async () => ({
        stats: queues.map((q) => ({
          queue: q.name,
          activated: activated[q.name] ?? 0,
          sent: 0,
          starting: 0,
          running: 0,
        })),
      }),
    } as unknown as QueueClient,
    store,
    plugins: [
      new LocalSubmitter({
        command: 'true',
        workDir: tmpdir(),
        gatewayUrl: 'http://127.0.0.1:9',
        heartbeatS: 1,
        baseEnv: {},
        logger,
      }),
    ],
    logger,
    maxWorkersTotal: 100,
  });

describe('WorkerService.GetQueueLimits over gRPC', () => {
  it("returns the limits, the store's workers by state and the adjuster's decision per queue", async () => {
    // given Q_METRICS (1 submitted, 2 running, 1 failed in the store) with maxWorkers 4
    const server = createGrpcServer(logger);
    const agent = planner(
      [
        catalogueQueue('Q_METRICS', { maxWorkers: 4, nQueueLimitWorker: 3 }),
        catalogueQueue('Q_SLURM', { submitter: 'slurm' }),
      ],
      { Q_METRICS: 10, Q_SLURM: 1 },
    );
    server.add(WorkerServiceDefinition, workerService(store, agent));
    const port = await listenGrpc(server, '127.0.0.1', 0);
    const channel = openChannel(`127.0.0.1:${port}`);
    try {
      const client = createGrpcClient(WorkerServiceDefinition, channel);
      // when the limits are asked for
      const res = await client.getQueueLimits({ queue: '' });
      // then Q_METRICS would get one more worker (4 - 1 submitted - 2 running), Q_SLURM none (not served)
      const byQueue = Object.fromEntries(res.queues.map((q) => [q.queue, q]));
      expect(byQueue.Q_METRICS).toMatchObject({
        served: true,
        maxWorkers: 4,
        nQueueLimitWorker: 3,
        activatedJobs: 10,
        workers: { submitted: 1, running: 2, failed: 1 },
        nNewWorkers: 1,
        boundBy: 'max_workers',
      });
      expect(byQueue.Q_SLURM).toMatchObject({ served: false, nNewWorkers: 0, boundBy: 'not_served' });
      // and nothing was submitted by asking
      expect((await store.activeCounts()).get('Q_METRICS')).toEqual({ queued: 1, running: 2 });
      await expect(client.getQueueLimits({ queue: 'NOPE' })).rejects.toMatchObject({
        code: Status.NOT_FOUND,
      });
    } finally {
      channel.close();
      await server.shutdown();
    }
  });
});

describe('WorkerService.ListWorkers over gRPC', () => {
  it('filters by queue and state, limits, and refuses an unknown state', async () => {
    const server = createGrpcServer(logger);
    server.add(WorkerServiceDefinition, workerService(store, planner([], {})));
    const port = await listenGrpc(server, '127.0.0.1', 0);
    const channel = openChannel(`127.0.0.1:${port}`);
    try {
      const client = createGrpcClient(WorkerServiceDefinition, channel);
      const q2 = await client.listWorkers({ queue: 'Q2', state: '', limit: 0 });
      expect(q2.workers.map((w) => w.workerId).sort()).toEqual([id('c1'), id('c2')]);
      expect(q2.workers[0]!.submittedAt).toBeInstanceOf(Date);
      const idle = await client.listWorkers({ queue: 'Q2', state: 'idle', limit: 0 });
      expect(idle.workers.map((w) => w.workerId)).toEqual([id('c2')]);
      expect((await client.listWorkers({ queue: '', state: '', limit: 1 })).workers).toHaveLength(1);
      const [logged] = (await client.listWorkers({ queue: 'Q_LOG', state: 'running', limit: 0 })).workers;
      expect(logged).toMatchObject({
        workerId: id('log'),
        cores: 4,
        memoryMb: 8000,
        walltimeS: 3600,
        logUrl: '/api/v1/namespaces/ns/pods/panda-x-abcde/log',
      });
      await expect(client.listWorkers({ queue: '', state: 'bogus', limit: 0 })).rejects.toMatchObject({
        code: Status.INVALID_ARGUMENT,
      });
    } finally {
      channel.close();
      await server.shutdown();
    }
  });
});

describe('HarvesterAgent with the local plugin and a real store', () => {
  it('starts pilots, records them running, then finished or failed by exit code', async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'harvester-int-'));
    const queue = catalogueQueue(`LOCAL_${run}`);
    const queues = {
      listQueues: async () => ({ queues: [queue] }),
      queueStats: async () => ({
        stats: [{ queue: queue.name, activated: 5, sent: 0, starting: 0, running: 0 }],
      }),
    } as unknown as QueueClient;
    let n = 0;
    const local = new LocalSubmitter({
      // The first pilot succeeds, the second fails with 7.
      command: 'test "$PANDA_PILOT_WORKER_ID" = "$FIRST" && exit 0 || exit 7',
      workDir,
      gatewayUrl: 'http://127.0.0.1:9',
      heartbeatS: 1,
      baseEnv: { PATH: process.env.PATH, FIRST: id('p1') },
      logger,
    });
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [local],
      logger,
      maxWorkersTotal: 100,
      newWorkerId: () => id(`p${++n}`),
    });
    try {
      const report = await agent.cycle(new AbortController().signal);
      expect(report.submitted).toEqual({ [queue.name]: 2 });
      const deadline = Date.now() + 5000;
      while ((await store.active('local')).some((w) => w.queue === queue.name) && Date.now() < deadline) {
        await agent.monitor();
        await new Promise((r) => setTimeout(r, 50));
      }
      const rows = await store.list({ queue: queue.name, limit: 10 });
      const byId = Object.fromEntries(rows.map((r) => [r.workerId, r]));
      expect(byId[id('p1')]).toMatchObject({ state: 'finished', exitCode: 0 });
      expect(byId[id('p2')]).toMatchObject({ state: 'failed', exitCode: 7 });
      // each with its pilot's log file (which exists) and no walltime limit (a local process)
      for (const n of ['p1', 'p2']) {
        const row = byId[id(n)]!;
        expect(row.walltimeS).toBe(0);
        expect(row.logUrl).toBe(pathToFileURL(join(workDir, 'workers', id(n), 'pilot.log')).href);
        expect((await stat(fileURLToPath(row.logUrl))).isFile()).toBe(true);
      }
      const events = await workerEvents([id('p1'), id('p2')], 6);
      expect(events.filter((e) => e.event.workerId === id('p2')).map((e) => e.event.state)).toEqual([
        'submitted',
        'running',
        'failed',
      ]);
    } finally {
      await local.stopAll(1000);
      await rm(workDir, { recursive: true, force: true });
    }
  });
});
