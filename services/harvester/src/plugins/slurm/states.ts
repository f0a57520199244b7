import { WORKER_OOM_ERROR } from '../types.js';
import type { WorkerState } from '../../workers/states.js';

/** What a Slurm job state means for its worker (reference §3, plus OUT_OF_MEMORY). */
export function slurmWorkerState(state: string): WorkerState {
  const s = state.toUpperCase().replace(/\+$/, '');
  switch (s) {
    case 'PENDING':
    case 'CONFIGURING':
    case 'REQUEUED':
    case 'RESIZING':
      return 'submitted';
    case 'RUNNING':
    case 'COMPLETING':
    case 'STOPPED':
    case 'SUSPENDED':
      return 'running';
    case 'COMPLETED':
    case 'PREEMPTED':
    case 'TIMEOUT':
      return 'finished';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

/**
 * slurmstepd's lines (`slurmstepd[-node]: error: ...`, written into the job's output) when it
 * killed a step for memory: jobacct_gather's OverMemoryKill (no cgroups: "StepId=7.batch exceeded
 * memory limit (A > B), being killed" and "Exceeded job memory limit") or task/cgroup's OOM
 * events ("Detected 1 oom_kill event"). Only slurmstepd's own lines count: the pilot's and the
 * payload's output in the same file may say "out of memory" for other reasons.
 */
const STEPD_OOM =
  /^slurmstepd(?:-\S+)?: error: .*(?:Exceeded job memory limit|exceeded memory limit|oom[-_]kill event)/im;
const STEPD_OVER_LIMIT = /^slurmstepd(?:-\S+)?: error: (\S+) exceeded memory limit \((\d+) > (\d+)\)/m;

/**
 * Whether a job that ended was killed for memory: state OUT_OF_MEMORY (task/cgroup), or an
 * unsuccessful end (FAILED: the batch step got SIGKILL, Slurm 22.05 says Reason=JobLaunchFailure,
 * ExitCode=0:9) with slurmstepd's memory message in the job output (jobacct_gather/linux with
 * `JobAcctGatherParams=OverMemoryKill`). A COMPLETED job is never an OOM: its batch step, the
 * pilot, ended by itself and reported its jobs.
 */
export function isSlurmOom(state: string, outputTail: string): boolean {
  const s = state.toUpperCase().replace(/\+$/, '');
  if (s === 'OUT_OF_MEMORY' || s === 'OOM') return true;
  const worker = slurmWorkerState(s);
  return (worker === 'failed' || worker === 'cancelled') && STEPD_OOM.test(outputTail);
}

/** slurmstepd's measured use and limit of the step it killed for memory, if it said so. */
export function slurmMemoryKill(
  outputTail: string,
): { step: string; usedMb: number; limitMb: number } | undefined {
  const m = STEPD_OVER_LIMIT.exec(outputTail);
  if (!m) return undefined;
  const mb = (bytes: string) => Math.round(Number(bytes) / (1024 * 1024));
  return { step: m[1]!, usedMb: mb(m[2]!), limitMb: mb(m[3]!) };
}

export const SLURM_OOM_CODE = WORKER_OOM_ERROR;

/** `JobState=X ... ExitCode=a:b ... Reason=R` from `scontrol show job -o`. */
export function parseScontrolJob(line: string): {
  state?: string;
  exitCode?: number;
  signal?: number;
  reason?: string;
} {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(line)?.[1];
  const exit = field('ExitCode')?.split(':').map(Number);
  return {
    state: field('JobState'),
    exitCode: exit?.[0],
    signal: exit?.[1],
    reason: field('Reason'),
  };
}
