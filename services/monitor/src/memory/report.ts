import { FINAL_JOB_STATES } from '../db/jobs.js';
import { MalformedSeriesError, MEMORY_FILE, parseMemorySeries } from './series.js';
import type { MemorySample } from './series.js';

/**
 * `ok`: a series to plot; `empty`: the file has no sample (the payload ended before the first);
 * `pending`: the job has not ended, so no archive yet; `missing`: the archive has no such file;
 * `malformed`: the file is not a series; `unavailable`: no log service, or it failed.
 */
export type MemoryStatus = 'ok' | 'empty' | 'pending' | 'missing' | 'malformed' | 'unavailable';

/** What the job page and `/jobs/:id/memory` show: the series, or why there is none. */
export interface MemoryReport {
  status: MemoryStatus;
  message: string;
  samples: MemorySample[];
  /** Lines of the file that were not samples. */
  skipped: number;
  /** The job's memory (its limit as brokered), in MB; null when unknown. */
  limitMb: number | null;
  /** The archive file's URL on the log service. */
  source: string | null;
}

export interface MemoryJob {
  pandaId: number;
  state: string;
  memoryMb: number;
}

const report = (
  job: MemoryJob,
  status: MemoryStatus,
  message: string,
  source: string | null,
  samples: MemorySample[] = [],
  skipped = 0,
): MemoryReport => ({
  status,
  message,
  samples,
  skipped,
  limitMb: job.memoryMb > 0 ? job.memoryMb : null,
  source,
});

/**
 * Reads the job's memory series from its log archive through the pilot-gateway
 * (`GET /logs/v1/jobs/<id>/archive/memory_monitor_output.txt`). The pilot uploads the archive
 * when the job ends, so a job not in a final state is `pending` without a call. Never throws:
 * every failure is a status and a message.
 */
export async function loadMemoryReport(
  gatewayUrl: string | undefined,
  job: MemoryJob,
  signal: AbortSignal,
): Promise<MemoryReport> {
  if (!gatewayUrl) return report(job, 'unavailable', 'no log service configured (PANDA_GATEWAY_URL)', null);
  if (!FINAL_JOB_STATES.has(job.state)) {
    return report(
      job,
      'pending',
      `the job is ${job.state}: the pilot uploads its memory series with the log archive when the job ends`,
      null,
    );
  }
  const url = `${gatewayUrl.replace(/\/$/, '')}/logs/v1/jobs/${job.pandaId}/archive/${MEMORY_FILE}`;
  let text: string;
  try {
    const res = await fetch(url, { signal });
    if (res.status === 404) {
      await res.body?.cancel();
      return report(
        job,
        'missing',
        `the job's log archive has no ${MEMORY_FILE} (the payload never ran, the upload failed or the archive expired)`,
        url,
      );
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      return report(job, 'unavailable', body.error ?? `the log service answered ${res.status}`, url);
    }
    text = await res.text();
  } catch (err) {
    return report(job, 'unavailable', `log service unreachable: ${(err as Error).message}`, url);
  }
  try {
    const series = parseMemorySeries(text);
    if (series.samples.length === 0) {
      return report(job, 'empty', `${MEMORY_FILE} has no sample: the payload ended before the first`, url);
    }
    const note = series.skipped > 0 ? ` (${series.skipped} unreadable line(s) skipped)` : '';
    return report(job, 'ok', `${series.samples.length} samples${note}`, url, series.samples, series.skipped);
  } catch (err) {
    if (!(err instanceof MalformedSeriesError)) throw err;
    return report(job, 'malformed', `${MEMORY_FILE} is not a memory series: ${err.message}`, url);
  }
}
