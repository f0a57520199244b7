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

/** Markers of a memory kill: cgroup OOM (OUT_OF_MEMORY) or jobacct_gather's OverMemoryKill. */
const OOM_OUTPUT = /Exceeded job memory limit|exceeded memory limit|oom-kill|out of memory/i;

/**
 * Whether a job that ended was killed for memory: state OUT_OF_MEMORY (cgroup task plugin), or
 * (without cgroups, `JobAcctGatherParams=OverMemoryKill`) slurmstepd's message in the job output.
 */
export function isSlurmOom(state: string, outputTail: string): boolean {
  const s = state.toUpperCase();
  if (s === 'OUT_OF_MEMORY' || s === 'OOM') return true;
  return (
    slurmWorkerState(s) !== 'submitted' && slurmWorkerState(s) !== 'running' && OOM_OUTPUT.test(outputTail)
  );
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
