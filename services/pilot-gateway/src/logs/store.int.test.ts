import { randomBytes } from 'node:crypto';
import { closeBus, connectBus, createLogger } from '@panda/platform';
import type { Bus } from '@panda/platform';
import { JobsChanged } from '@panda/proto';
import type { PilotLogBatch } from '@panda/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { subscribeActivations } from '../push/activations.js';
import { QueueWaiters } from '../push/waiters.js';
import { LogStore } from './store.js';

const logger = createLogger({ service: 'gateway-logs-int', level: 'silent' });
let bus: Bus;
let store: LogStore;
// pandaIds unique to this run: the nats-server is shared by every integration test file
const base = 1_000_000 + randomBytes(3).readUIntBE(0, 3) * 10;

beforeAll(async () => {
  bus = await connectBus({ url: inject('natsUrl'), name: 'gateway-logs-int', logger });
  store = await LogStore.open(bus, {
    logMaxAgeMs: 3600_000,
    logMaxBytes: 64 * 1024 ** 2,
    archiveMaxAgeMs: 3600_000,
    archiveMaxBytes: 64 * 1024 ** 2,
  });
});
afterAll(async () => {
  await closeBus(bus);
});

const batch = (pandaId: number, messages: string[], final = false): PilotLogBatch => ({
  pandaId,
  taskId: 3,
  workerId: 'w-1',
  queue: 'Q',
  records: messages.map((message) => ({
    pilotTime: new Date(),
    source: 'payload-log.json',
    severity: 'ERROR',
    message,
    logger: 'lsst.isr',
    mdc: { LABEL: 'isr' },
    fields: {},
  })),
  final,
  receivedAt: new Date(),
});

async function collect(pandaId: number, follow: boolean, signal = new AbortController().signal) {
  const out: PilotLogBatch[] = [];
  for await (const b of store.read(pandaId, follow, signal)) out.push(b);
  return out;
}

describe('LogStore on JetStream', () => {
  it("reads back one job's batches in order, not another's, and ends once caught up", async () => {
    await store.publish(batch(base + 1, ['a', 'b']));
    await store.publish(batch(base + 2, ['other job']));
    await store.publish(batch(base + 1, ['c']));
    const got = await collect(base + 1, false);
    expect(got.flatMap((b) => b.records.map((r) => r.message))).toEqual(['a', 'b', 'c']);
    expect(got[0]!.records[0]).toMatchObject({
      severity: 'ERROR',
      mdc: { LABEL: 'isr' },
      logger: 'lsst.isr',
    });
    expect(await collect(base + 3, false)).toEqual([]);
  });

  it('follows a job until its final batch', async () => {
    const id = base + 4;
    const following = collect(id, true);
    await new Promise((r) => setTimeout(r, 200));
    await store.publish(batch(id, ['live 1']));
    await store.publish(batch(id, ['live 2']));
    await store.publish(batch(id, [], true));
    const got = await following;
    expect(got.flatMap((b) => b.records.map((r) => r.message))).toEqual(['live 1', 'live 2']);
    expect(got.at(-1)!.final).toBe(true);
  });

  it('stops following when the reader goes away', async () => {
    const stop = new AbortController();
    const following = collect(base + 5, true, stop.signal);
    await new Promise((r) => setTimeout(r, 200));
    stop.abort();
    expect(await following).toEqual([]);
  });

  it('stores, lists and returns archive files per job', async () => {
    const id = base + 6;
    await store.putArchive(id, 'payload.stdout', Buffer.from('hello\n'));
    await store.putArchive(id, 'memory_monitor_output.txt', Buffer.from('time\tpss\n'));
    await store.putArchive(id + 1, 'payload.stdout', Buffer.from('not mine'));
    const files = await store.listArchive(id);
    expect(files.map((f) => [f.name, f.size])).toEqual([
      ['memory_monitor_output.txt', 9],
      ['payload.stdout', 6],
    ]);
    expect(Buffer.from((await store.getArchive(id, 'payload.stdout'))!).toString()).toBe('hello\n');
    expect(await store.getArchive(id, 'missing')).toBeNull();
  });
});

describe('activations wake waiting pilots through NATS', () => {
  it('wakes as many waiters of the queue as jobs were activated', async () => {
    const subject = `test.activated.${base}`;
    const waiters = new QueueWaiters();
    const sub = subscribeActivations(bus.nc, waiters, logger, subject);
    const tickets = [waiters.enter('Q'), waiters.enter('Q'), waiters.enter('Q')];
    const never = new AbortController().signal;
    const woken: number[] = [];
    const wokenAt: number[] = [];
    const waits = tickets.map((t, i) =>
      t.wait(3000, never).then(() => {
        woken.push(i);
        wokenAt.push(Date.now());
      }),
    );
    const started = Date.now();
    const change = {
      taskId: 1,
      inputId: 1,
      workflowId: 1,
      previousState: '',
      state: 'activated',
      queue: 'Q',
    };
    bus.nc.publish(
      subject,
      JobsChanged.encode(
        JobsChanged.fromPartial({
          state: 'activated',
          jobs: [
            { ...change, pandaId: 1 },
            { ...change, pandaId: 2 },
          ],
        }),
      ).finish(),
    );
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 1000))]);
    expect(woken.sort()).toEqual([0, 1]);
    expect(Math.max(...wokenAt) - started).toBeLessThan(200);
    for (const t of tickets) t.leave();
    await Promise.all(waits);
    sub.unsubscribe();
  });
});
