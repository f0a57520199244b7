import { randomBytes } from 'node:crypto';
import { closeBus, connectBus, createLogger, ensureStream } from '@panda/platform';
import type { Bus } from '@panda/platform';
import { PilotLogBatch } from '@panda/proto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildMonitorServer } from '../http/server.js';
import { LiveHub } from '../live/hub.js';
import { JetStreamJobLogs, LOGS_STREAM } from './job-log.js';

const logger = createLogger({ service: 'monitor-tail-int', level: 'silent' });
// pandaIds of this run: the nats-server (and PANDA_LOGS) is shared by every integration test file
const base = 2_000_000 + randomBytes(3).readUIntBE(0, 3) * 10;
let bus: Bus;
let hub: LiveHub;
let logs: JetStreamJobLogs;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  bus = await connectBus({ url: inject('natsUrl'), name: 'monitor-tail-int', logger });
  // as the pilot-gateway creates it (services/pilot-gateway/src/logs/store.ts)
  await ensureStream(bus.jsm, {
    name: LOGS_STREAM,
    subjects: ['logs.>'],
    maxAgeMs: 3600_000,
    maxBytes: 64 * 1024 ** 2,
  });
  hub = new LiveHub();
  logs = new JetStreamJobLogs(bus.js);
  app = buildMonitorServer({ idds: { client: {} as never, address: 'idds:1' }, live: hub, logs });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  hub.close();
  await logs.close();
  await app.close();
  await closeBus(bus);
});

/** What the payload writes, as the gateway stores it: one PilotLogBatch on logs.<task>.<pandaId>. */
async function write(pandaId: number, messages: string[], final = false, severity = 'INFO'): Promise<void> {
  const batch = PilotLogBatch.fromPartial({
    pandaId,
    taskId: 9,
    workerId: 'w-1',
    queue: 'Q',
    records: messages.map((message) => ({ pilotTime: new Date(), source: 'stdout', severity, message })),
    final,
    receivedAt: new Date(),
  });
  await bus.js.publish(`logs.9.${pandaId}`, PilotLogBatch.encode(batch).finish());
}

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** A server-sent-event client over fetch: `next()` waits for the next event. */
async function connect(path: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(`${url}${path}`, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let closed = false;
  const next = async (timeoutMs = 5000): Promise<SseEvent | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cut = buffer.indexOf('\n\n');
      if (cut >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const lines = frame.split('\n').filter((l) => !l.startsWith(':') && l !== '');
        if (lines.length === 0 || lines.every((l) => l.startsWith('retry:'))) continue;
        const field = (name: string) =>
          lines.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
        return { event: field('event')[0] ?? 'message', id: field('id')[0], data: field('data').join('\n') };
      }
      if (closed) return null;
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), deadline - Date.now()));
      const read = await Promise.race([reader.read(), timer]);
      if (read === 'timeout') throw new Error(`no event within ${timeoutMs} ms`);
      if (read.done) closed = true;
      else buffer += read.value;
    }
  };
  const messages = async (): Promise<{ id: string | undefined; lines: string[]; skipped: number }> => {
    const e = await next();
    expect(e?.event).toBe('message');
    const data = JSON.parse(e!.data) as { records: { message: string }[]; skipped: number };
    return { id: e?.id, lines: data.records.map((r) => r.message), skipped: data.skipped };
  };
  return { next, messages, close: () => abort.abort() };
}

async function tailConsumers(): Promise<string[]> {
  const names: string[] = [];
  for await (const c of bus.jsm.consumers.list(LOGS_STREAM)) names.push(c.name);
  return names.filter((n) => n.startsWith('monitor_log_'));
}

describe('live log tail over server-sent events (JetStream PANDA_LOGS)', () => {
  it('sends the last N stored lines, then each line as the payload writes it, then ends with the job', async () => {
    const job = base + 1;
    await write(job, ['one', 'two', 'three']);
    await write(job, ['four', 'five']);
    await write(base + 2, ['another job']);
    const tail = await connect(`/jobs/${job}/log/stream?last=3`);
    const backlog = await tail.messages();
    expect(backlog).toMatchObject({ lines: ['three', 'four', 'five'], skipped: 2 });
    expect((await tail.next())?.event).toBe('ready');

    await write(job, ['six']);
    await write(base + 2, ['not mine']);
    await write(job, ['seven', 'eight'], false, 'ERROR');
    expect((await tail.messages()).lines).toEqual(['six']);
    const next = await tail.messages();
    expect(next.lines).toEqual(['seven', 'eight']);
    expect(Number(next.id)).toBeGreaterThan(Number(backlog.id));

    await write(job, ['last words'], true);
    expect((await tail.messages()).lines).toEqual(['last words']);
    const end = await tail.next();
    expect(end?.event).toBe('end');
    expect(JSON.parse(end!.data)).toEqual({ reason: 'the pilot sent the job\u2019s last log batch' });
    expect(await tail.next()).toBeNull(); // the server closed the stream
    await expect.poll(tailConsumers).toEqual([]);
  });

  it('a reconnecting browser (Last-Event-ID) gets only what came after, not the backlog again', async () => {
    const job = base + 3;
    await write(job, ['a', 'b']);
    const first = await connect(`/jobs/${job}/log/stream`);
    const seen = await first.messages();
    expect(seen.lines).toEqual(['a', 'b']);
    first.close();
    await write(job, ['c']);
    const again = await connect(`/jobs/${job}/log/stream`, { 'last-event-id': String(seen.id) });
    expect((await again.messages()).lines).toEqual(['c']);
    expect((await again.next())?.event).toBe('ready');
    again.close();
  });

  it('ends 2 s after the job reached a final state when no final batch comes (pilot gone)', async () => {
    const job = base + 4;
    const tail = await connect(`/jobs/${job}/log/stream`);
    expect((await tail.next())?.event).toBe('ready');
    await write(job, ['working']);
    expect((await tail.messages()).lines).toEqual(['working']);
    hub.publish({ subject: 'panda.job.failed', keys: ['jobs', `job:${job}`] });
    const end = await tail.next(4000);
    expect(end?.event).toBe('end');
    expect(end?.data).toContain('the job is failed');
  });

  it('the log page is the live tail: no reload, the stream named, severities styled', async () => {
    const page = await fetch(`${url}/jobs/${base + 6}/log`);
    const text = await page.text();
    expect(text).toContain(`data-stream="/jobs/${base + 6}/log/stream"`);
    expect(text).toContain('new EventSource(box.dataset.stream)');
    expect(text).not.toContain('http-equiv="refresh"');
  });

  it('removes its ordered consumer when the browser goes away', async () => {
    const job = base + 5;
    const tail = await connect(`/jobs/${job}/log/stream`);
    expect((await tail.next())?.event).toBe('ready');
    expect((await tailConsumers()).some((n) => n.startsWith(`monitor_log_${job}_`))).toBe(true);
    tail.close();
    await expect.poll(tailConsumers, { timeout: 5000 }).toEqual([]);
  });
});
