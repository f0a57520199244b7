import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TreeSample } from '../monitor/procfs.js';
import { PilotErrorCodes } from './error-codes.js';
import type { KillReason } from './error-codes.js';

/** The limits one job runs under; an absent limit is not checked. */
export interface JobLimits {
  /** Max PSS of the payload's tree: the job's memory x the grace factor. */
  memoryKb?: number;
  /** How the memory limit was made, for the diagnostic, e.g. `2000 MB x 2`. */
  memoryRule?: string;
  /** Hard limit of the payload's memory cgroup (the kernel OOM-kills above it), when it has one. */
  cgroupMemoryKb?: number;
  walltimeMs?: number;
  loopingMs?: number;
  lostHeartbeatMs?: number;
}

/** The memory limit of a job asking `memoryMb` (0: the pilot's own), or undefined if neither is set. */
export function memoryLimit(
  jobMemoryMb: number,
  pilotMemoryMb: number,
  grace: number,
): Pick<JobLimits, 'memoryKb' | 'memoryRule'> {
  const mb = jobMemoryMb > 0 ? jobMemoryMb : pilotMemoryMb;
  if (mb <= 0 || grace <= 0) return {};
  return { memoryKb: Math.round(mb * 1024 * grace), memoryRule: `${mb} MB x ${grace}` };
}

export function memoryViolation(sample: TreeSample, limits: JobLimits): KillReason | undefined {
  if (limits.memoryKb === undefined || sample.pssKb <= limits.memoryKb) return undefined;
  return {
    errorCode: PilotErrorCodes.MEMORY_EXCEEDED,
    diag:
      `Payload exceeded maximum allowed memory: PSS ${sample.pssKb} kB > limit ${limits.memoryKb} kB ` +
      `(${limits.memoryRule ?? 'limit'}), RSS ${sample.rssKb} kB`,
  };
}

export function walltimeViolation(elapsedMs: number, limits: JobLimits): KillReason | undefined {
  if (limits.walltimeMs === undefined || elapsedMs <= limits.walltimeMs) return undefined;
  return {
    errorCode: PilotErrorCodes.WALLTIME,
    diag: `Reached time limit: payload ran ${Math.round(elapsedMs / 1000)} s, limit ${Math.round(limits.walltimeMs / 1000)} s`,
  };
}

export function loopingViolation(
  now: number,
  newestChangeMs: number,
  limits: JobLimits,
): KillReason | undefined {
  if (limits.loopingMs === undefined || now - newestChangeMs <= limits.loopingMs) return undefined;
  return {
    errorCode: PilotErrorCodes.LOOPING,
    diag:
      `Looping job killed by pilot: no file in the work dir changed for ` +
      `${Math.round((now - newestChangeMs) / 1000)} s (limit ${Math.round(limits.loopingMs / 1000)} s)`,
  };
}

export function lostHeartbeat(now: number, lastOkMs: number, limits: JobLimits): KillReason | undefined {
  if (limits.lostHeartbeatMs === undefined || now - lastOkMs <= limits.lostHeartbeatMs) return undefined;
  return {
    errorCode: PilotErrorCodes.LOST_HEARTBEAT,
    diag:
      `Lost heartbeat: no update reached the server for ${Math.round((now - lastOkMs) / 1000)} s ` +
      `(limit ${Math.round(limits.lostHeartbeatMs / 1000)} s); pilot aborts`,
  };
}

/** At most this many entries are looked at per scan, so a huge work dir cannot stall the pilot. */
const MAX_SCAN_ENTRIES = 20_000;

/**
 * The newest modification time (ms) of any file or directory under `dir`, not counting
 * names in `ignore` (the pilot's own files), or `floor` if nothing is newer.
 */
export async function newestChange(dir: string, ignore: ReadonlySet<string>, floor: number): Promise<number> {
  let newest = floor;
  let seen = 0;
  const pending = [dir];
  while (pending.length > 0 && seen < MAX_SCAN_ENTRIES) {
    const current = pending.pop()!;
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      continue; // removed while scanning
    }
    for (const entry of entries) {
      if (ignore.has(entry.name)) continue;
      seen++;
      const path = join(current, entry.name);
      try {
        const info = await stat(path);
        newest = Math.max(newest, info.mtimeMs);
      } catch {
        continue;
      }
      if (entry.isDirectory()) pending.push(path);
    }
  }
  return newest;
}
