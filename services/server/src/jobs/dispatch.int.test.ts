import { randomBytes } from 'node:crypto';
import { closeBus, connectBus, createLogger, Database, ensureEventsStream, Outbox } from '@panda/platform';
import type { Bus } from '@panda/platform';
import type { NewJob } from '@panda/proto';
import { createDatabase } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations, SCHEMA } from '../db/migrations.js';
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
  const stop = new AbortController();

  beforeAll(async () => {
    const url = await createDatabase(inject('pgUrl'), `server_${randomBytes(4).toString('hex')}`);
    db = await Database.connect({ url, schema: SCHEMA, migrations, poolSize: 30 });
    await db.migrate();
    bus = await connectBus({ url: inject('natsUrl'), name: 'test', logger });
    await ensureEventsStream(bus.jsm);
    const outbox = new Outbox(db, bus.js, logger);
    outbox.start(stop.signal);
    store = new JobStore(outbox);
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
