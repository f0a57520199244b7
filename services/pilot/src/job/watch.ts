import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryMonitor, MONITOR_OUTPUT_FILE, MONITOR_SUMMARY_FILE } from '../monitor/memory-monitor.js';
import type { MemorySummary } from '../monitor/memory-monitor.js';
import type { KillReason } from './error-codes.js';
import {
  loopingViolation,
  lostHeartbeat,
  memoryViolation,
  newestChange,
  walltimeViolation,
} from './limits.js';
import type { JobLimits } from './limits.js';

/** Files the pilot itself writes in the job's dir: not evidence that the payload progresses. */
export const PILOT_FILES: ReadonlySet<string> = new Set([MONITOR_OUTPUT_FILE, MONITOR_SUMMARY_FILE]);

export interface JobWatchOptions {
  pid: number;
  dir: string;
  limits: JobLimits;
  monitorIntervalMs: number;
  checkIntervalMs: number;
  /** When the last update reached the server (ms since the epoch). */
  lastUpdateOk: () => number;
  /** Called once, with the first limit broken. */
  onViolation: (reason: KillReason) => void;
  now?: () => number;
}

/**
 * Watches a running payload: the memory monitor (and the memory limit on every sample), and
 * every check interval the walltime, the looping limit and the lost-heartbeat limit.
 */
export class JobWatch {
  private readonly monitor: MemoryMonitor;
  private readonly stopper = new AbortController();
  private readonly checks: Promise<void>;
  private readonly started: number;
  private violated = false;

  constructor(private readonly o: JobWatchOptions) {
    const now = o.now ?? Date.now;
    this.started = now();
    this.monitor = new MemoryMonitor({
      pid: o.pid,
      intervalMs: o.monitorIntervalMs,
      outputPath: join(o.dir, MONITOR_OUTPUT_FILE),
      summaryPath: join(o.dir, MONITOR_SUMMARY_FILE),
      onSample: (sample) => {
        const reason = memoryViolation(sample, o.limits);
        if (reason) this.violation(reason);
      },
    });
    this.checks = this.run(now);
  }

  private violation(reason: KillReason): void {
    if (this.violated) return;
    this.violated = true;
    this.o.onViolation(reason);
  }

  private async run(now: () => number): Promise<void> {
    const signal = this.stopper.signal;
    const { limits } = this.o;
    while (!signal.aborted && !this.violated) {
      await sleep(this.o.checkIntervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      const t = now();
      const walltime = walltimeViolation(t - this.started, limits);
      if (walltime) return this.violation(walltime);
      const lost = lostHeartbeat(t, this.o.lastUpdateOk(), limits);
      if (lost) return this.violation(lost);
      if (limits.loopingMs !== undefined) {
        const newest = await newestChange(this.o.dir, PILOT_FILES, this.started);
        const looping = loopingViolation(now(), newest, limits);
        if (looping) return this.violation(looping);
      }
    }
  }

  /** Stops the checks and the monitor; the memory summary of the whole run. */
  async stop(): Promise<MemorySummary> {
    this.stopper.abort();
    await this.checks;
    return this.monitor.stop();
  }
}
