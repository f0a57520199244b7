import { randomBytes } from 'node:crypto';
import type { Bus } from '@panda/platform';
import { PilotLogBatch } from '@panda/proto';

/** The pilot-gateway's JetStream stream of real-time job logs (one PilotLogBatch per message). */
export const LOGS_STREAM = 'PANDA_LOGS';

/** Subject of one job's batches: `logs.<taskId>.<pandaId>`, any task when it is not known. */
export const jobLogSubject = (pandaId: number, taskId?: number): string => `logs.${taskId ?? '*'}.${pandaId}`;

/** One stored message of a job's log. */
export interface LogMessage {
  /** Stream sequence (the SSE event id, to resume from). */
  seq: number;
  /** Messages of this job still to come after this one, as the stream knew when it sent it. */
  pending: number;
  /** Null when the payload is not a PilotLogBatch. */
  batch: PilotLogBatch | null;
}

/** A job's log from a point on: its stored messages, then new ones as they come, until closed. */
export interface LogFeed extends AsyncIterable<LogMessage> {
  /** Messages stored when the feed opened (0: nothing to catch up on). */
  readonly backlog: number;
  /** Stops the feed and removes its consumer; idempotent. */
  close(): Promise<void>;
}

export interface JobLogSource {
  /** Opens a feed of the job's messages after stream sequence `afterSeq` (0: from the start). */
  open(job: { pandaId: number; taskId?: number | undefined }, afterSeq: number): Promise<LogFeed>;
  /** Closes every open feed (shutdown). */
  close(): Promise<void>;
}

export interface JetStreamJobLogsOptions {
  stream?: string;
  /** The server removes a consumer nobody pulled from for this long (a crashed monitor's). */
  inactiveMs?: number;
}

/**
 * Job logs read straight from JetStream with ordered consumers: ephemeral, in memory, no acks,
 * one per feed, named `monitor_log_<pandaId>_<random>`, deleted when the feed closes (and by the
 * server after `inactiveMs` if the monitor dies first). Nothing durable is left behind.
 */
export class JetStreamJobLogs implements JobLogSource {
  private readonly feeds = new Set<LogFeed>();
  private readonly stream: string;
  private readonly inactiveMs: number;

  constructor(
    private readonly js: Bus['js'],
    options: JetStreamJobLogsOptions = {},
  ) {
    this.stream = options.stream ?? LOGS_STREAM;
    this.inactiveMs = options.inactiveMs ?? 30_000;
  }

  async open(job: { pandaId: number; taskId?: number | undefined }, afterSeq: number): Promise<LogFeed> {
    const consumer = await this.js.consumers.get(this.stream, {
      name_prefix: `monitor_log_${job.pandaId}_${randomBytes(4).toString('hex')}`,
      filter_subjects: jobLogSubject(job.pandaId, job.taskId),
      opt_start_seq: Math.max(1, afterSeq + 1),
      inactive_threshold: this.inactiveMs,
    });
    let messages: Awaited<ReturnType<typeof consumer.consume>>;
    let backlog: number;
    try {
      backlog = (await consumer.info(true)).num_pending;
      messages = await consumer.consume({ max_messages: 256 });
    } catch (err) {
      await consumer.delete().catch(() => undefined);
      throw err;
    }
    let closing: Promise<void> | undefined;
    const feeds = this.feeds;
    const feed: LogFeed = {
      backlog,
      close: () =>
        (closing ??= (async () => {
          feeds.delete(feed);
          await messages.close();
          await consumer.delete().catch(() => undefined);
        })()),
      async *[Symbol.asyncIterator]() {
        for await (const msg of messages) {
          let batch: PilotLogBatch | null = null;
          try {
            batch = PilotLogBatch.decode(msg.data);
          } catch {
            batch = null;
          }
          yield { seq: msg.seq, pending: msg.info.pending, batch };
        }
      },
    };
    feeds.add(feed);
    return feed;
  }

  async close(): Promise<void> {
    await Promise.all([...this.feeds].map((f) => f.close()));
  }
}

/** Whether an error from `open` means the stream does not exist (no pilot-gateway has run yet). */
export function isStreamMissing(err: unknown): boolean {
  return /stream not found/i.test(err instanceof Error ? err.message : String(err));
}
