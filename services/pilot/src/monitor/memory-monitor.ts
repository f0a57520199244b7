import { appendFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobMetricsJson } from '../gateway/types.js';
import { sampleTree } from './procfs.js';
import type { TreeSample } from './procfs.js';

/** Written next to the payload's work dir, like prmon's files; excluded from the looping check. */
export const MONITOR_OUTPUT_FILE = 'memory_monitor_output.txt';
export const MONITOR_SUMMARY_FILE = 'memory_monitor_summary.json';

const COLUMNS = ['time', 'pss', 'rss', 'vmem', 'swap', 'utime', 'stime', 'nprocs', 'nthreads'] as const;

export interface MemorySummary {
  samples: number;
  max: { pssKb: number; rssKb: number; vmemKb: number; swapKb: number; processes: number; threads: number };
  avg: { pssKb: number; rssKb: number; vmemKb: number; swapKb: number };
  cpuTimeS: number;
}

/** Max and average of a time series (zeros when empty). */
export function summarize(series: readonly TreeSample[]): MemorySummary {
  const max = { pssKb: 0, rssKb: 0, vmemKb: 0, swapKb: 0, processes: 0, threads: 0 };
  const sum = { pssKb: 0, rssKb: 0, vmemKb: 0, swapKb: 0 };
  let cpuTimeS = 0;
  for (const s of series) {
    for (const k of Object.keys(max) as (keyof typeof max)[]) max[k] = Math.max(max[k], s[k]);
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += s[k];
    cpuTimeS = Math.max(cpuTimeS, s.utimeS + s.stimeS);
  }
  const n = Math.max(series.length, 1);
  const avg = {
    pssKb: Math.round(sum.pssKb / n),
    rssKb: Math.round(sum.rssKb / n),
    vmemKb: Math.round(sum.vmemKb / n),
    swapKb: Math.round(sum.swapKb / n),
  };
  return { samples: series.length, max, avg, cpuTimeS };
}

/** The summary as the server's JobMetrics (timings are added by the job). */
export function metricsOf(summary: MemorySummary): JobMetricsJson {
  return {
    maxPssKb: summary.max.pssKb,
    avgPssKb: summary.avg.pssKb,
    maxRssKb: summary.max.rssKb,
    avgRssKb: summary.avg.rssKb,
    maxVmemKb: summary.max.vmemKb,
    avgVmemKb: summary.avg.vmemKb,
    maxSwapKb: summary.max.swapKb,
    avgSwapKb: summary.avg.swapKb,
    cpuTimeS: Math.round(summary.cpuTimeS * 100) / 100,
    maxProcesses: summary.max.processes,
    maxThreads: summary.max.threads,
  };
}

export interface MemoryMonitorOptions {
  /** Root of the process tree (the payload's pid, also its process group). */
  pid: number;
  intervalMs: number;
  /** Where the time series (tab separated, prmon's columns) and the summary JSON go. */
  outputPath?: string;
  summaryPath?: string;
  /** Called after each sample, e.g. to check the memory limit. */
  onSample?: (sample: TreeSample, series: readonly TreeSample[]) => void;
}

/**
 * The prmon role: samples the payload's process tree at once, then after 1, 2, 4, ... s up to
 * the interval and every interval after that, until stopped, keeps the series and rewrites the summary file each time.
 */
export class MemoryMonitor {
  readonly series: TreeSample[] = [];
  private readonly stopper = new AbortController();
  private readonly loop: Promise<void>;

  constructor(private readonly o: MemoryMonitorOptions) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { outputPath, summaryPath } = this.o;
    if (outputPath) await writeFile(outputPath, `${COLUMNS.join('\t')}\n`).catch(() => undefined);
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      const sample = await sampleTree(this.o.pid).catch(() => undefined);
      if (signal.aborted) return;
      if (sample) {
        this.series.push(sample);
        if (outputPath) await appendFile(outputPath, rowOf(sample)).catch(() => undefined);
        if (summaryPath) {
          await writeFile(summaryPath, JSON.stringify(summarize(this.series))).catch(() => undefined);
        }
        this.o.onSample?.(sample, this.series);
      }
      await sleep(this.nextDelayMs(), undefined, { signal }).catch(() => undefined);
    }
  }

  private ramp = 0;

  /**
   * 1 s, 2 s, 4 s, ... up to the interval: a short payload is still measured several times,
   * a long one at the interval (prmon's 60 s by default).
   */
  private nextDelayMs(): number {
    const delay = Math.min(this.o.intervalMs, 1000 * 2 ** this.ramp);
    this.ramp = Math.min(this.ramp + 1, 30);
    return delay;
  }

  summary(): MemorySummary {
    return summarize(this.series);
  }

  /** Stops sampling; resolves once the loop has ended. */
  async stop(): Promise<MemorySummary> {
    this.stopper.abort();
    await this.loop;
    return this.summary();
  }
}

function rowOf(s: TreeSample): string {
  const cells = [
    Math.round(s.time / 1000),
    s.pssKb,
    s.rssKb,
    s.vmemKb,
    s.swapKb,
    s.utimeS.toFixed(2),
    s.stimeS.toFixed(2),
    s.processes,
    s.threads,
  ];
  return `${cells.join('\t')}\n`;
}
