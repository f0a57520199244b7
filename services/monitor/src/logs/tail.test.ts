import type { PilotLogBatch } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import type { LogMessage } from './job-log.js';
import { sseFrame, tailEvents } from './tail.js';
import type { TailEvent } from './tail.js';

const batch = (messages: string[], final = false, severity = 'INFO'): PilotLogBatch => ({
  pandaId: 5,
  taskId: 2,
  workerId: 'w',
  queue: 'Q',
  records: messages.map((message) => ({
    pilotTime: new Date('2026-01-02T03:04:05.678Z'),
    source: 'stdout',
    severity,
    message,
    logger: '',
    mdc: {},
    fields: {},
  })),
  final,
  receivedAt: new Date(),
});

/** A feed of stored messages (seq 10, 11, ...), `backlog` of them stored when it opened. */
function feedOf(batches: PilotLogBatch[], backlog = batches.length) {
  const messages: LogMessage[] = batches.map((b, i) => ({
    seq: 10 + i,
    pending: Math.max(0, backlog - i - 1),
    batch: b,
  }));
  return {
    backlog,
    async *[Symbol.asyncIterator]() {
      yield* messages;
    },
  };
}

async function collect(feed: ReturnType<typeof feedOf>, lastN: number): Promise<TailEvent[]> {
  const out: TailEvent[] = [];
  for await (const e of tailEvents(feed, lastN)) out.push(e);
  return out;
}

const messagesOf = (e: TailEvent | undefined) =>
  e?.type === 'records' ? e.records.map((r) => r.message) : [];

describe('tailEvents', () => {
  it('sends the last N records of the backlog at once, then ready, then each new batch', async () => {
    const events = await collect(feedOf([batch(['a', 'b']), batch(['c', 'd', 'e']), batch(['f'])], 2), 3);
    expect(events.map((e) => e.type)).toEqual(['records', 'ready', 'records']);
    expect(messagesOf(events[0])).toEqual(['c', 'd', 'e']);
    expect(events[0]).toMatchObject({ seq: 11, skipped: 2 });
    expect(events[1]).toEqual({ type: 'ready', sent: 3, skipped: 2 });
    expect(messagesOf(events[2])).toEqual(['f']);
    expect(events[2]).toMatchObject({ seq: 12, skipped: 0 });
  });

  it('with nothing stored it is ready at once; the final batch ends the tail', async () => {
    const events = await collect(
      feedOf([batch(['x'], false, 'ERROR'), batch([], true), batch(['late'])], 0),
      200,
    );
    expect(events.map((e) => e.type)).toEqual(['ready', 'records', 'end']);
    expect(events[1]).toMatchObject({
      records: [{ time: '2026-01-02T03:04:05.678Z', source: 'stdout', severity: 'ERROR', message: 'x' }],
    });
  });

  it('a backlog holding the final batch: records, ready, end', async () => {
    const events = await collect(feedOf([batch(['a']), batch(['b'], true)]), 200);
    expect(events.map((e) => e.type)).toEqual(['records', 'ready', 'end']);
    expect(messagesOf(events[0])).toEqual(['a', 'b']);
  });

  it('frames events as server-sent events, with the stream sequence as id', () => {
    expect(sseFrame({ type: 'records', seq: 42, records: [], skipped: 0 })).toBe(
      'id: 42\ndata: {"records":[],"skipped":0}\n\n',
    );
    expect(sseFrame({ type: 'end', reason: 'done' })).toBe('event: end\ndata: {"reason":"done"}\n\n');
  });
});
