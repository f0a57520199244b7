import { AbortError } from 'abort-controller-x';
import type { Logger } from '@panda/platform';
import type { JobUpdateResult } from '@panda/proto';
import type { CallLimiter } from './limiter.js';
import type { DispatchClient, PilotUpdate } from './types.js';

export interface UpdateBatcherOptions {
  dispatch: Pick<DispatchClient, 'updateJobs'>;
  limiter: CallLimiter;
  logger: Logger;
  /** A batch is sent as soon as it holds this many updates... */
  maxBatch: number;
  /** ...or this long after its first update arrived (0: at the next turn of the event loop). */
  windowMs: number;
  /** Told the size and outcome of every batch sent (metrics). */
  onBatch?: (size: number, outcome: 'ok' | 'error') => void;
}

interface Pending {
  update: PilotUpdate;
  settled: boolean;
  resolve(result: JobUpdateResult): void;
  reject(err: unknown): void;
}

/** The server's reply held no result for an update it was sent. */
export class MissingResultError extends Error {
  constructor(pandaId: number) {
    super(`server returned no result for the update of job ${pandaId}`);
    this.name = 'MissingResultError';
  }
}

/**
 * Coalesces single pilot updates into `DispatchService.UpdateJobs` batches: one round trip
 * (and one server transaction) for up to `maxBatch` pilots. Each caller gets the result of
 * its own update (the server answers one result per update, in order), or the batch's error.
 *
 * Every update takes room in the limiter's queue when it arrives (OverloadedError when full),
 * and the batch takes one call slot. A caller that aborts before its batch is sent is taken
 * out of it; once sent, its abort only stops its own wait: the batch goes on for the others.
 */
export class UpdateBatcher {
  private open: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly o: UpdateBatcherOptions) {}

  async submit(update: PilotUpdate, signal?: AbortSignal): Promise<JobUpdateResult> {
    if (signal?.aborted) throw new AbortError();
    this.o.limiter.reserve(1);
    return new Promise<JobUpdateResult>((resolve, reject) => {
      const onAbort = () => {
        if (pending.settled) return;
        const i = this.open.indexOf(pending);
        if (i >= 0) {
          this.open.splice(i, 1);
          this.o.limiter.unreserve(1);
        }
        pending.settled = true;
        reject(new AbortError());
      };
      const pending: Pending = {
        update,
        settled: false,
        resolve: (result) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(result);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.open.push(pending);
      if (this.open.length >= this.o.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.o.windowMs);
    });
  }

  /** Updates waiting for their batch to be sent. */
  get waiting(): number {
    return this.open.length;
  }

  /** Sends what is waiting now and waits for every batch on its way. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all([...this.sending]);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.open;
    this.open = [];
    if (batch.length === 0) return;
    const sent: Promise<void> = this.send(batch).finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }

  private async send(batch: Pending[]): Promise<void> {
    // The batch is not tied to any one caller: no signal, the client's deadline bounds it.
    const release = await this.o.limiter.acquire(batch.length);
    try {
      const { results } = await this.o.dispatch.updateJobs({ updates: batch.map((p) => p.update) });
      this.o.onBatch?.(batch.length, 'ok');
      batch.forEach((p, i) => {
        const result = results[i];
        if (result && result.pandaId === p.update.pandaId) settle(p, result);
        else {
          const err = new MissingResultError(p.update.pandaId ?? 0);
          this.o.logger.error({ pandaId: p.update.pandaId, results: results.length }, err.message);
          settle(p, undefined, err);
        }
      });
    } catch (err) {
      this.o.onBatch?.(batch.length, 'error');
      this.o.logger.warn({ err, size: batch.length }, 'update batch failed');
      for (const p of batch) settle(p, undefined, err);
    } finally {
      release();
    }
  }
}

function settle(p: Pending, result: JobUpdateResult | undefined, err?: unknown): void {
  if (p.settled) return; // the caller went away
  p.settled = true;
  if (result) p.resolve(result);
  else p.reject(err);
}
