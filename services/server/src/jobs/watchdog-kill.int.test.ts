import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeBus, connectBus, createLogger, Database, ensureEventsStream, Outbox } from '@panda/platform';
import type { Bus } from '@panda/platform';
import type { JobError, JobUpdate, NewJob } from '@panda/proto';
import { createDatabase } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations, SCHEMA } from '../db/migrations.js';
import { QueueCatalogue } from '../queues/catalogue.js';
import { JobCommands } from './job-commands.js';
import { JobStore } from './job-store.js';
import { Watchdog } from './watchdog.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let input = 50_000;
const newJob = (extra: Partial<NewJob> = {}): NewJob => ({
  taskId: 7,
  inputId: ++input,
  workflowId: 1,
  label: 'isr',
  name: `isr_${input}`,
  command: 'true',
  queue: 'FAST',
  attemptNr: 1,
  maxAttempts: 3,
  memoryMb: 1000,
  cores: 1,
  priority: 500,
  walltimeS: 0,
  gateNodeId: 0,
  ...extra,
});
const update = (pandaId: number, state: string, extra: Partial<JobUpdate> = {}): JobUpdate => ({
  pandaId,
  state,
  attemptNr: 1,
  exitCode: 0,
  errorCode: 0,
  errorDiag: '',
  node: 'n',
  workerId: 'w',
  errors: [],
  metrics: undefined,
  ...extra,
});

describe('watchdog and kill against PostgreSQL', () => {
  let db: Database;
  let bus: Bus;
  let store: JobStore;
  let commands: JobCommands;
  let watchdog: Watchdog;
  const stop = new AbortController();

  beforeAll(async () => {
    // given a queue whose timeouts are one second
    const example = JSON.parse(
      readFileSync(new URL('../../../../config/queues.json', import.meta.url), 'utf8'),
    ) as { queues: Record<string, unknown>[] };
    const fast = { ...example.queues[0]!, name: 'FAST', timeouts: { heartbeatS: 1, sentS: 1, holdingS: 1 } };
    const file = join(mkdtempSync(join(tmpdir(), 'queues-')), 'queues.json');
    writeFileSync(file, JSON.stringify({ queues: [fast] }));
    const url = await createDatabase(inject('pgUrl'), `watchdog_${randomBytes(4).toString('hex')}`);
    db = await Database.connect({ url, schema: SCHEMA, migrations });
    await db.migrate();
    bus = await connectBus({ url: inject('natsUrl'), name: 'test', logger });
    await ensureEventsStream(bus.jsm);
    const outbox = new Outbox(db, bus.js, logger);
    outbox.start(stop.signal);
    store = new JobStore(outbox);
    commands = new JobCommands(outbox);
    watchdog = new Watchdog(outbox, new QueueCatalogue(file, logger), logger);
  });
  afterAll(async () => {
    stop.abort();
    await closeBus(bus);
    await db.close();
  });

  const acquire = (n: number) =>
    store.acquire({
      queue: 'FAST',
      nJobs: n,
      node: 'n',
      memoryMb: 0,
      cores: 0,
      remainingWalltimeS: 0,
      workerId: 'w',
    });
  const row = async (pandaId: number) =>
    (
      await db.query<{ state: string; errors: JobError[]; command_to_pilot: string }>(
        `SELECT state, errors, command_to_pilot FROM server.jobs WHERE panda_id = $1`,
        [pandaId],
      )
    )[0]!;

  it('fails a silent running job with 100 and a never-started one with 102, and spares the others', async () => {
    await store.insertJobs([newJob(), newJob(), newJob()]);
    const [silent, neverStarted, alive] = await acquire(3);
    await store.update([update(silent!.pandaId, 'running'), update(alive!.pandaId, 'running')]);
    // when a second and a half pass with only one of them sending heartbeats
    await new Promise((r) => setTimeout(r, 800));
    await store.update([update(alive!.pandaId, 'running')]);
    await new Promise((r) => setTimeout(r, 700));
    await store.update([update(alive!.pandaId, 'running')]);
    const failed = await watchdog.sweep();
    // then
    expect(failed).toBe(2);
    expect(await row(silent!.pandaId)).toMatchObject({
      state: 'failed',
      errors: [{ source: 'dispatcher', code: 100, diag: expect.stringMatching(/^lost heartbeat : /) }],
    });
    expect((await row(neverStarted!.pandaId)).errors[0]).toMatchObject({ source: 'dispatcher', code: 102 });
    expect((await row(alive!.pandaId)).state).toBe('running');
    // and a late pilot update changes nothing
    const [late] = await store.update([update(silent!.pandaId, 'finished')]);
    expect(late!.result).toBe('alreadydone');
  });

  it('ends queued jobs at once and tells a running pilot to die in its next heartbeat', async () => {
    const ids = (await store.insertJobs([newJob({ taskId: 8 }), newJob({ taskId: 8 })])).map(
      (j) => j.pandaId,
    );
    const [running] = await acquire(1);
    const queued = ids.find((id) => id !== running!.pandaId);
    await store.update([update(running!.pandaId, 'running')]);
    // when the task's jobs are killed by hand (code 9 would force; 3 = aborted)
    const killed = await commands.kill({
      pandaIds: [],
      taskId: 8,
      code: 3,
      reason: 'test',
      queuedOnly: false,
    });
    expect(killed.find((k) => k.pandaId === queued)).toMatchObject({ state: 'cancelled' });
    expect(killed.find((k) => k.pandaId === running!.pandaId)).toMatchObject({
      commandToPilot: 'tobekilled',
    });
    // then the next heartbeat carries the command, and the pilot's failure ends the job cancelled
    const [hb] = await store.update([update(running!.pandaId, 'running')]);
    expect(hb!.commandToPilot).toBe('tobekilled');
    const [end] = await store.update([
      update(running!.pandaId, 'failed', { errorCode: 1144, errorDiag: 'killed' }),
    ]);
    expect(end).toMatchObject({ result: 'ok', state: 'cancelled' });
  });

  it('uses closed for system kill codes and pauses/resumes activated jobs', async () => {
    const ids = (await store.insertJobs([newJob({ taskId: 9 }), newJob({ taskId: 9 })])).map(
      (j) => j.pandaId,
    );
    expect(await commands.throttle(9, true)).toBe(2);
    expect(await acquire(10)).toHaveLength(0);
    expect(await commands.throttle(9, false)).toBe(2);
    const reassigned = await commands.reassign([ids[0]!]);
    expect(reassigned).toEqual([{ pandaId: ids[0], state: 'closed', commandToPilot: '' }]);
    expect((await row(ids[0]!)).errors).toEqual([{ source: 'taskbuffer', code: 105, diag: 're-brokered' }]);
  });
});
