import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@panda/platform';
import { GatewayError } from '../gateway/client.js';
import type { LogBatchJson } from '../gateway/types.js';
import { recordOf } from './records.js';
import type { LogRecordJson } from './records.js';
import { FileTailer } from './tailer.js';

/** Text per POST, well below the gateway's body limit. */
const MAX_BATCH_CHARS = 1024 * 1024;

export interface LogSink {
  postLogs(batch: LogBatchJson): Promise<void>;
}

export interface LogShipperOptions {
  sink: LogSink;
  logger: Logger;
  /** The job's work dir. */
  dir: string;
  /** Files in `dir`: the payload's stdout and stderr (source `stdout`/`stderr`) and JSON log files. */
  files: { name: string; source?: string }[];
  job: { pandaId: number; taskId: number; queue: string };
  workerId: string;
  pollMs: number;
  /** Records per POST. */
  batchSize?: number;
  /** Records kept while the gateway cannot be reached; the oldest are dropped beyond this. */
  maxBuffered?: number;
  now?: () => number;
}

/**
 * Real-time logging: reads new lines of the job's files every poll, turns them into records
 * (PandaJobID, TaskID, worker id, pilot timestamp, payload severity and MDC) and posts them to
 * the gateway in batches. `stop()` reads the rest, sends it and a last batch marked `final`.
 */
export class LogShipper {
  private readonly tailers: FileTailer[];
  private readonly buffer: LogRecordJson[] = [];
  private readonly stopper = new AbortController();
  private readonly loop: Promise<void>;
  private dropped = 0;
  /** Records the gateway accepted. */
  sent = 0;

  constructor(private readonly o: LogShipperOptions) {
    this.tailers = o.files.map((f) => new FileTailer(join(o.dir, f.name), f.source ?? f.name));
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      await sleep(this.o.pollMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      await this.collect(false);
      await this.send(false);
    }
  }

  private async collect(all: boolean): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    for (const tailer of this.tailers) {
      const lines = all ? await tailer.flush() : await tailer.read();
      for (const line of lines) this.buffer.push(recordOf(line, tailer.source, now));
    }
    const max = this.o.maxBuffered ?? 10_000;
    if (this.buffer.length > max) {
      const extra = this.buffer.length - max;
      this.buffer.splice(0, extra);
      this.dropped += extra;
    }
  }

  /** Posts buffered records; on failure keeps them for the next poll. */
  private async send(final: boolean): Promise<boolean> {
    const size = this.o.batchSize ?? 500;
    const { pandaId, taskId, queue } = this.o.job;
    do {
      const records = this.nextBatch(size);
      const last = final && records.length === this.buffer.length;
      if (records.length === 0 && !last) return true;
      try {
        await this.o.sink.postLogs({
          pandaId,
          taskId,
          queue,
          workerId: this.o.workerId,
          records,
          final: last,
        });
      } catch (err) {
        if (err instanceof GatewayError && err.status >= 400 && err.status < 500) {
          // Refused as it is (e.g. too large): sending it again cannot help.
          this.o.logger.warn({ err: err.message, records: records.length }, 'gateway refused log records');
          this.buffer.splice(0, records.length);
          this.dropped += records.length;
          if (last) return true;
          continue;
        }
        this.o.logger.warn({ err: String(err), pending: this.buffer.length }, 'could not send log records');
        return false;
      }
      this.buffer.splice(0, records.length);
      this.sent += records.length;
      if (last) return true;
    } while (this.buffer.length > 0 || final);
    return true;
  }

  /** The next records to send: at most `size` of them and about MAX_BATCH_CHARS of text. */
  private nextBatch(size: number): LogRecordJson[] {
    let chars = 0;
    let n = 0;
    while (n < Math.min(size, this.buffer.length)) {
      chars += this.buffer[n]!.message.length + 200;
      if (n > 0 && chars > MAX_BATCH_CHARS) break;
      n++;
    }
    return this.buffer.slice(0, n);
  }

  /** Stops polling, sends what is left and the final marker. */
  async stop(): Promise<{ sent: number; dropped: number }> {
    this.stopper.abort();
    await this.loop;
    await this.collect(true);
    if (!(await this.send(true))) {
      this.dropped += this.buffer.length;
      this.buffer.length = 0;
    }
    if (this.dropped > 0) this.o.logger.warn({ dropped: this.dropped }, 'log records were dropped');
    return { sent: this.sent, dropped: this.dropped };
  }
}
