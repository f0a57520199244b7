import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { WorkerState } from '../../workers/states.js';
import { WORKER_OOM_ERROR } from '../types.js';

/** Container waiting reasons that will not resolve by themselves: the worker failed. */
export const BAD_WAITING_REASONS = new Set([
  'CrashLoopBackOff',
  'CreateContainerError',
  'CreateContainerConfigError',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
]);

export interface KubeObservation {
  state: WorkerState;
  nativeStatus: string;
  exitCode?: number;
  errorCode?: number;
  diag?: string;
}

/**
 * A worker's state from its Job and Pod (reference §2, with OOMKilled reported as an error):
 * Pending -> submitted (failed on a bad waiting reason); Running -> running; Succeeded ->
 * finished; Failed -> failed (OOMKilled with the OOM code); neither Pod nor Job -> cancelled.
 */
export function kubeWorkerState(job: V1Job | undefined, pod: V1Pod | undefined): KubeObservation {
  if (!pod) {
    if (!job) return { state: 'cancelled', nativeStatus: 'gone', diag: 'Job and Pod not found (deleted)' };
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failed)
      return {
        state: 'failed',
        nativeStatus: `Job Failed (${failed.reason ?? ''})`,
        diag: `Job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim(),
      };
    const complete = job.status?.conditions?.find((c) => c.type === 'Complete' && c.status === 'True');
    if (complete) return { state: 'finished', nativeStatus: 'Job Complete' };
    return { state: 'submitted', nativeStatus: 'Job without Pod' };
  }
  const phase = pod.status?.phase ?? 'Unknown';
  const container = pod.status?.containerStatuses?.[0];
  const terminated = container?.state?.terminated ?? container?.lastState?.terminated;
  if (terminated?.reason === 'OOMKilled') {
    return {
      state: 'failed',
      nativeStatus: `${phase} (OOMKilled)`,
      exitCode: terminated.exitCode,
      errorCode: WORKER_OOM_ERROR,
      diag: `[sup ${WORKER_OOM_ERROR} WORKEROOM] container OOMKilled (memory limit ${
        pod.spec?.containers[0]?.resources?.limits?.['memory'] ?? '?'
      })`,
    };
  }
  switch (phase) {
    case 'Pending': {
      const waiting = container?.state?.waiting?.reason;
      if (waiting && BAD_WAITING_REASONS.has(waiting))
        return {
          state: 'failed',
          nativeStatus: `Pending (${waiting})`,
          diag: `container ${waiting}: ${container?.state?.waiting?.message ?? ''}`.trim(),
        };
      return { state: 'submitted', nativeStatus: waiting ? `Pending (${waiting})` : 'Pending' };
    }
    case 'Running':
      return { state: 'running', nativeStatus: 'Running' };
    case 'Succeeded':
      return { state: 'finished', nativeStatus: 'Succeeded', exitCode: terminated?.exitCode ?? 0 };
    case 'Failed':
      return {
        state: 'failed',
        nativeStatus: `Failed (${terminated?.reason ?? pod.status?.reason ?? ''})`,
        exitCode: terminated?.exitCode,
        diag: `pod failed: ${terminated?.reason ?? pod.status?.reason ?? ''} exit ${terminated?.exitCode ?? '?'} ${
          pod.status?.message ?? ''
        }`.trim(),
      };
    default:
      return { state: 'running', nativeStatus: phase };
  }
}
