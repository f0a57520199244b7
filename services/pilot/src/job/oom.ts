import { readFile } from 'node:fs/promises';
import type { PayloadExit } from '../payload/process.js';
import { PilotErrorCodes } from './error-codes.js';
import type { KillReason } from './error-codes.js';

/**
 * The kernel's count of OOM kills (`oom_kill` in /proc/vmstat, Linux >= 4.13), or undefined
 * when it cannot be read. It counts every OOM kill on the node (cgroup limits included).
 */
export async function readOomKills(path = '/proc/vmstat'): Promise<number | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the payload (or, under `bash -c`, its last command) died of SIGKILL. */
export function diedOfSigkill(exit: Pick<PayloadExit, 'exitCode' | 'signal'>): boolean {
  return exit.signal === 'SIGKILL' || exit.exitCode === 128 + 9;
}

/**
 * Heuristic for 1212: the payload died of SIGKILL that the pilot did not send, and the
 * node's OOM-kill count rose while it ran. Both are needed: a SIGKILL alone may come from a
 * user or the batch system, and an OOM kill alone may have hit another process on the node.
 * (The kernel log would name the victim, but dmesg needs privileges a pilot does not have.)
 */
export function oomKillReason(
  exit: Pick<PayloadExit, 'exitCode' | 'signal'>,
  oomKillsBefore: number | undefined,
  oomKillsAfter: number | undefined,
): KillReason | undefined {
  if (!diedOfSigkill(exit)) return undefined;
  if (oomKillsBefore === undefined || oomKillsAfter === undefined) return undefined;
  if (oomKillsAfter <= oomKillsBefore) return undefined;
  return {
    errorCode: PilotErrorCodes.OUT_OF_MEMORY,
    diag:
      `Payload ran out of memory: killed by SIGKILL while the kernel's OOM-kill count rose ` +
      `from ${oomKillsBefore} to ${oomKillsAfter}`,
  };
}

const mb = (bytes: number) => Math.round(bytes / 1024 ** 2);

/**
 * 1212 for certain: the payload ran in its own memory cgroup and the kernel counted OOM kills
 * there (`oom_kill` of memory.oom_control in v1, memory.events in v2). Undefined when there was
 * none, or the count could not be read (the caller then falls back to the node heuristic).
 */
export function cgroupOomReason(
  oomKills: number | undefined,
  limitBytes: number | undefined,
  peakBytes: number | undefined,
): KillReason | undefined {
  if (oomKills === undefined || oomKills <= 0) return undefined;
  const facts = [
    ...(limitBytes !== undefined ? [`limit ${mb(limitBytes)} MB`] : []),
    ...(peakBytes !== undefined ? [`peak ${mb(peakBytes)} MB`] : []),
  ];
  return {
    errorCode: PilotErrorCodes.OUT_OF_MEMORY,
    diag:
      `Payload ran out of memory: the kernel OOM-killed ${oomKills} process(es) in the payload's ` +
      `memory cgroup${facts.length ? ` (${facts.join(', ')})` : ''}`,
  };
}
