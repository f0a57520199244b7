import type { PilotLogBatch } from '@panda/proto';
import type { LogMessage } from './job-log.js';

/** A log record as the browser gets it. */
export interface TailRecord {
  /** When the pilot read the line (ISO), if known. */
  time: string | null;
  /** stdout, stderr or the JSON log file's name. */
  source: string;
  severity: string;
  message: string;
  logger?: string;
  mdc?: Record<string, string>;
}

export type TailEvent =
  /** Records of one stored message (or of the whole backlog); `seq` resumes after them. */
  | { type: 'records'; seq: number; records: TailRecord[]; skipped: number }
  /** The backlog has been sent: what follows is new. */
  | { type: 'ready'; sent: number; skipped: number }
  /** The job's log is complete. */
  | { type: 'end'; reason: string };

export function recordsOf(batch: PilotLogBatch): TailRecord[] {
  return batch.records.map((r) => ({
    time: r.pilotTime?.toISOString() ?? null,
    source: r.source,
    severity: r.severity || 'INFO',
    message: r.message,
    ...(r.logger ? { logger: r.logger } : {}),
    ...(Object.keys(r.mdc).length > 0 ? { mdc: r.mdc } : {}),
  }));
}

/**
 * A job's log messages as tail events: the last `lastN` records of the backlog (the messages
 * stored when the feed opened) in one `records` event, then `ready`, then each new message's
 * records as they come; `end` after the batch the pilot marked final. Ends when the feed does.
 */
export async function* tailEvents(
  feed: AsyncIterable<LogMessage> & { readonly backlog: number },
  lastN: number,
): AsyncGenerator<TailEvent> {
  let caughtUp = feed.backlog === 0;
  if (caughtUp) yield { type: 'ready', sent: 0, skipped: 0 };
  const kept: TailRecord[] = [];
  let keptSeq = 0;
  let skipped = 0;
  for await (const m of feed) {
    const records = m.batch ? recordsOf(m.batch) : [];
    const final = m.batch?.final === true;
    if (caughtUp) {
      if (records.length > 0) yield { type: 'records', seq: m.seq, records, skipped: 0 };
    } else {
      kept.push(...records);
      if (kept.length > lastN) skipped += kept.splice(0, kept.length - lastN).length;
      keptSeq = m.seq;
      if (m.pending === 0 || final) {
        caughtUp = true;
        if (kept.length > 0) yield { type: 'records', seq: keptSeq, records: kept, skipped };
        yield { type: 'ready', sent: kept.length, skipped };
      }
    }
    if (final) {
      yield { type: 'end', reason: 'the pilot sent the job\u2019s last log batch' };
      return;
    }
  }
}

/** An event in server-sent-event framing (`id:` on records, so that a browser resumes after them). */
export function sseFrame(event: TailEvent): string {
  switch (event.type) {
    case 'records':
      return `id: ${event.seq}\ndata: ${JSON.stringify({ records: event.records, skipped: event.skipped })}\n\n`;
    case 'ready':
      return `event: ready\ndata: ${JSON.stringify({ sent: event.sent, skipped: event.skipped })}\n\n`;
    case 'end':
      return `event: end\ndata: ${JSON.stringify({ reason: event.reason })}\n\n`;
  }
}
