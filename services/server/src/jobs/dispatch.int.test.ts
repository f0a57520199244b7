import { randomBytes } from 'node:crypto';
import { closeBus, connectBus, createLogger, Database, ensureEventsStream, Outbox } from '@panda/platform';
import type { Bus } from '@panda/platform';
import { JobsChanged } from '@panda/proto';
import type { Job, NewJob } from '@panda/proto';
import { createDatabase, pollFor } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations, SCHEMA } from '../db/migrations.js';
import { GateActivator } from './gate-activation.js';
import { JobCommands } from './job-commands.js';
import { JobStore } from './job-store.js';

const logger = createLogger({ service: 'test', level: 'warn' });
const newJob = (inputId: number, extra: Partial<NewJob> = {}): NewJob => ({
  taskId: 1,
  inputId,
  workflowId: 1,
  label: 'isr',
  name: `isr_${inputId}`,
  command: 'true',
  queue: 'Q',
  attemptNr: 1,
  maxAttempts: 3,
  memoryMb: 2000,
  cores: 1,
  priority: 500,
  walltimeS: 3600,
  gateNodeId: 0,
  ...extra,
});
const acquire = (store: JobStore, n: number, extra = {}) =>
  store.acquire({
    queue: 'Q',
    nJobs: n,
    node: 'node',
    memoryMb: 4000,
    cores: 1,
    remainingWalltimeS: 0,
    workerId: 'w',
    ...extra,
  });

describe('server job store against PostgreSQL', () => {
  let db: Database;
  let bus: Bus;
  let store: JobStore;
  let outbox: Outbox;
  let gates: GateActivator;
  const stop = new AbortController();

  beforeAll(async () => {
    const url = await createDatabase(inject('pgUrl'), `server_${randomBytes(4).toString('hex')}`);
    db = await Database.connect({ url, schema: SCHEMA, migrations, poolSize: 30 });
    await db.migrate();
    bus = await connectBus({ url: inject('natsUrl'), name: 'test', logger });
    await ensureEventsStream(bus.jsm);
    outbox = new Outbox(db, bus.js, logger);
    outbox.start(stop.signal);
    store = new JobStore(outbox);
    gates = new GateActivator(outbox, logger);
  });
  afterAll(async () => {
    stop.abort();
    await closeBus(bus);
    await db.close();
  });

  it('inserts idempotently on input and attempt', async () => {
    const first = await store.insertJobs([newJob(900_001), newJob(900_002)]);
    const again = await store.insertJobs([newJob(900_001)]);
    expect(again[0]!.pandaId).toBe(first.find((j) => j.inputId === 900_001)!.pandaId);
    await db.query(`DELETE FROM server.jobs WHERE input_id >= 900000`);
  });

  it('keeps staged jobs defined until their gate opens, then activates them in one go', async () => {
    // given three jobs of task 31 staged behind node 77, one behind node 78, one not staged
    const gated = (inputId: number, gateNodeId: number) => newJob(inputId, { taskId: 31, gateNodeId });
    await store.insertJobs([gated(910_001, 77), gated(910_002, 77), gated(910_003, 77), gated(910_004, 78)]);
    await store.insertJobs([newJob(910_005, { taskId: 31 })]);
    const stateOf = async () =>
      Object.fromEntries(
        (
          await db.query<{ input_id: string; state: string; activated: boolean }>(
            `SELECT input_id, state, activated_at IS NOT NULL AS activated FROM server.jobs WHERE task_id = 31`,
          )
        ).map((r) => [Number(r.input_id), `${r.state}${r.activated ? '+at' : ''}`]),
      );
    // then only the unstaged one can be dispatched
    expect(await stateOf()).toEqual({
      910001: 'defined',
      910002: 'defined',
      910003: 'defined',
      910004: 'defined',
      910005: 'activated+at',
    });
    const before = await acquire(store, 10);
    expect(before.map((j) => j.inputId)).toEqual([910_005]);

    // when gate 77 opens (twice: a redelivered event)
    expect(await gates.activate(31, 77, false)).toBe(3);
    expect(await gates.activate(31, 77, false)).toBe(0);
    // and gate 78 opens while the task is paused
    expect(await gates.activate(31, 78, true)).toBe(1);

    // then the three are activated with their time, the paused one throttled
    const after = await stateOf();
    expect(after).toMatchObject({ 910001: 'activated+at', 910002: 'activated+at', 910004: 'throttled+at' });
    const got = await acquire(store, 10);
    expect(got.map((j) => j.inputId).sort()).toEqual([910_001, 910_002, 910_003]);
    expect(got.every((j) => j.activatedAt instanceof Date && j.gateNodeId === 77)).toBe(true);
    await db.query(`DELETE FROM server.jobs WHERE task_id = 31`);
  });

  it('dispatches the jobs behind an open gate at once, while the rest are activated, each exactly once', async () => {
    // given 10k jobs of task 41 staged behind node 88, and pilots watching the activation events
    const N = 10_000;
    for (let i = 0; i < N; i += 5000) {
      await store.insertJobs(
        Array.from({ length: 5000 }, (_, k) => newJob(930_000 + i + k, { taskId: 41, gateNodeId: 88 })),
      );
    }
    const events: { subject: string; pandaId: number; previous: string }[] = [];
    const sub = bus.nc.subscribe('panda.job.>', {
      callback: (_err, msg) => {
        for (const j of JobsChanged.decode(msg.data).jobs)
          if (j.taskId === 41)
            events.push({ subject: msg.subject, pandaId: j.pandaId, previous: j.previousState });
      },
    });
    // when the gate opens while 20 pilots race for jobs
    const got: Job[] = [];
    let opening = true;
    const pilots = Array.from({ length: 20 }, async () => {
      for (;;) {
        const jobs = await acquire(store, 50);
        got.push(...jobs);
        if (jobs.length === 0 && !opening) return;
      }
    });
    await gates.activate(41, 88, false);
    opening = false;
    await Promise.all(pilots);
    // then every job was handed out exactly once, none is left defined, and the gate is closed
    expect(got).toHaveLength(N);
    expect(new Set(got.map((j) => j.pandaId)).size).toBe(N);
    const left = await db.query(`SELECT 1 FROM server.jobs WHERE task_id = 41 AND state <> 'sent'`);
    expect(left).toEqual([]);
    expect(await db.query(`SELECT 1 FROM server.open_gates WHERE task_id = 41`)).toEqual([]);
    // and all carry one activation time, the gate's opening, taken directly or by a chunk
    expect(new Set(got.map((j) => j.activatedAt!.getTime())).size).toBe(1);
    // and each job's events say defined -> activated -> sent, once each
    await bus.nc.flush();
    await pollFor(async () => (events.length >= 2 * N ? true : undefined), 'the events', {
      timeoutMs: 10_000,
    });
    sub.unsubscribe();
    const activated = events.filter((e) => e.subject === 'panda.job.activated');
    expect(activated.every((e) => e.previous === 'defined')).toBe(true);
    expect(new Set(activated.map((e) => e.pandaId)).size).toBe(N);
    expect(activated).toHaveLength(N);
    const sent = events.filter((e) => e.subject === 'panda.job.sent');
    expect(sent.every((e) => e.previous === 'activated')).toBe(true);
    expect(sent).toHaveLength(N);
    await db.query(`DELETE FROM server.jobs WHERE task_id = 41`);
  });

  it('hands out a defined job behind an open gate directly, activated as of the opening', async () => {
    // given two jobs staged behind node 66 of task 61, and the gate's row committed, no chunk run yet
    await store.insertJobs([950_001, 950_002].map((i) => newJob(i, { taskId: 61, gateNodeId: 66 })));
    const opened = new Date('2026-11-01T10:00:00Z');
    await db.query(
      `INSERT INTO server.open_gates (task_id, gate_node_id, workflow_id, opened_at) VALUES (61, 66, 1, $1)`,
      [opened],
    );
    // when a pilot asks, then it gets both, activated when the gate opened
    const got = await acquire(store, 10);
    expect(got.map((j) => [j.inputId, j.state, j.activatedAt?.toISOString()])).toEqual([
      [950_001, 'sent', opened.toISOString()],
      [950_002, 'sent', opened.toISOString()],
    ]);
    // and the activation that follows finds nothing left, and closes the gate
    expect(await gates.activate(61, 66, false)).toBe(0);
    expect(await db.query(`SELECT 1 FROM server.open_gates WHERE task_id = 61`)).toEqual([]);
    await db.query(`DELETE FROM server.jobs WHERE task_id = 61`);
  });

  it('drains a gate left open by a server that stopped mid-way', async () => {
    // given three jobs still defined behind an open gate, and no drain running
    await store.insertJobs([960_001, 960_002, 960_003].map((i) => newJob(i, { taskId: 71, gateNodeId: 55 })));
    const opened = new Date('2026-11-02T08:00:00Z');
    await db.query(
      `INSERT INTO server.open_gates (task_id, gate_node_id, workflow_id, opened_at) VALUES (71, 55, 1, $1)`,
      [opened],
    );
    // when the sweep runs, then they are activated as of the opening, and the gate closes
    const sweep = new AbortController();
    const running = gates.run(50, sweep.signal);
    await pollFor(
      async () =>
        (await db.query(`SELECT 1 FROM server.open_gates WHERE task_id = 71`)).length ? undefined : true,
      'the gate to close',
      { timeoutMs: 10_000 },
    );
    sweep.abort();
    await running;
    const rows = await db.query<{ state: string; activated_at: Date }>(
      `SELECT state, activated_at FROM server.jobs WHERE task_id = 71`,
    );
    expect(rows.map((r) => [r.state, r.activated_at.toISOString()])).toEqual(
      Array(3).fill(['activated', opened.toISOString()]),
    );
    await db.query(`DELETE FROM server.jobs WHERE task_id = 71`);
  });

  it('throttles the jobs behind an open gate when their task is paused, closing the gate', async () => {
    // given two jobs staged behind node 99 of task 51, whose gate is open
    await store.insertJobs([940_001, 940_002].map((i) => newJob(i, { taskId: 51, gateNodeId: 99 })));
    await db.query(`INSERT INTO server.open_gates (task_id, gate_node_id, workflow_id) VALUES (51, 99, 1)`);
    // when the task is paused
    expect(await new JobCommands(outbox).throttle(51, true)).toBe(2);
    // then they are throttled, no pilot gets them, and the gate is closed
    const states = await db.query<{ state: string }>(`SELECT state FROM server.jobs WHERE task_id = 51`);
    expect(states.map((r) => r.state)).toEqual(['throttled', 'throttled']);
    expect(await acquire(store, 10)).toEqual([]);
    expect(await db.query(`SELECT 1 FROM server.open_gates WHERE task_id = 51`)).toEqual([]);
    // and a resume activates them
    expect(await new JobCommands(outbox).throttle(51, false)).toBe(2);
    expect((await acquire(store, 10)).map((j) => j.inputId).sort()).toEqual([940_001, 940_002]);
    await db.query(`DELETE FROM server.jobs WHERE task_id = 51`);
  });

  it('hands each of 10k jobs to exactly one of 50 racing pilots', async () => {
    const N = 10_000;
    for (let i = 0; i < N; i += 5000) {
      await store.insertJobs(Array.from({ length: 5000 }, (_, k) => newJob(i + k + 1)));
    }
    const got: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, p) => {
        for (;;) {
          const jobs = await acquire(store, 1 + (p % 5));
          if (jobs.length === 0) return;
          got.push(...jobs.map((j) => j.pandaId));
        }
      }),
    );
    expect(got).toHaveLength(N);
    expect(new Set(got).size).toBe(N);
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM server.jobs WHERE state = 'sent'`,
    );
    expect(row!.n).toBe(N);
  });

  it('only hands out jobs that fit the pilot, best priority first', async () => {
    await store.insertJobs([
      newJob(10_001, { memoryMb: 8000 }),
      newJob(10_002, { priority: 100 }),
      newJob(10_003, { priority: 900 }),
    ]);
    const jobs = await acquire(store, 10);
    expect(jobs.map((j) => j.inputId)).toEqual([10_003, 10_002]);
    expect((await acquire(store, 10, { memoryMb: 16000 })).map((j) => j.inputId)).toEqual([10_001]);
  });

  it('refuses illegal pilot updates and leaves the job as it was', async () => {
    const [inserted] = await store.insertJobs([newJob(20_001)]);
    const pandaId = inserted!.pandaId;
    const u = {
      pandaId,
      attemptNr: 1,
      exitCode: 0,
      errorCode: 0,
      errorDiag: '',
      node: 'n',
      workerId: 'w',
      errors: [],
      metrics: undefined,
    };
    expect((await store.update([{ ...u, state: 'finished' }]))[0]).toMatchObject({
      result: 'illegal',
      state: 'activated',
    });
    await acquire(store, 1);
    expect((await store.update([{ ...u, state: 'running', attemptNr: 2 }]))[0]!.result).toBe('badattemptnr');
    const [running, done] = await store.update([
      { ...u, state: 'running' },
      { ...u, state: 'failed', exitCode: 3, errorCode: 1305, errorDiag: 'boom' },
    ]);
    expect(running!.result).toBe('ok');
    expect(done).toMatchObject({ result: 'ok', state: 'failed' });
    expect((await store.update([{ ...u, state: 'running' }]))[0]!.result).toBe('alreadydone');
    const [row] = await db.query<{ state: string; exit_code: number; error_diag: string }>(
      `SELECT state, exit_code, error_diag FROM server.jobs WHERE panda_id = $1`,
      [pandaId],
    );
    expect(row).toEqual({ state: 'failed', exit_code: 3, error_diag: 'boom' });
    const [pairs] = await db.query<{ errors: unknown }>(
      `SELECT errors FROM server.jobs WHERE panda_id = $1`,
      [pandaId],
    );
    expect(pairs!.errors).toEqual([
      { source: 'payload', code: 3, diag: '' },
      { source: 'pilot', code: 1305, diag: 'boom' },
    ]);
  });
});
