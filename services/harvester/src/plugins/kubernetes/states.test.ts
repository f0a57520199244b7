import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildJob, jobName, kubeParamsSchema } from './job.js';
import { kubeWorkerState } from './states.js';

const pod = (phase: string, state: object = {}, limits: Record<string, string> = {}): V1Pod => ({
  spec: { containers: [{ name: 'pilot', resources: { limits } }] },
  status: {
    phase,
    containerStatuses: [{ name: 'pilot', ready: false, restartCount: 0, image: '', imageID: '', state }],
  },
});
const job: V1Job = { metadata: { name: 'panda-w' } };

describe('kubeWorkerState', () => {
  it('maps phases and container states', () => {
    expect(kubeWorkerState(job, pod('Pending', { waiting: { reason: 'ContainerCreating' } })).state).toBe(
      'submitted',
    );
    for (const reason of ['CrashLoopBackOff', 'CreateContainerError', 'ImagePullBackOff'])
      expect(kubeWorkerState(job, pod('Pending', { waiting: { reason } })).state).toBe('failed');
    expect(kubeWorkerState(job, pod('Running')).state).toBe('running');
    expect(
      kubeWorkerState(job, pod('Succeeded', { terminated: { exitCode: 0, reason: 'Completed' } })),
    ).toMatchObject({
      state: 'finished',
      exitCode: 0,
    });
    expect(
      kubeWorkerState(job, pod('Failed', { terminated: { exitCode: 2, reason: 'Error' } })),
    ).toMatchObject({
      state: 'failed',
      exitCode: 2,
    });
    expect(kubeWorkerState(undefined, undefined).state).toBe('cancelled');
    expect(kubeWorkerState(job, undefined).state).toBe('submitted');
  });
  it('reports OOMKilled as failed with the out-of-memory code', () => {
    const s = kubeWorkerState(
      job,
      pod('Failed', { terminated: { exitCode: 137, reason: 'OOMKilled' } }, { memory: '300Mi' }),
    );
    expect(s).toMatchObject({ state: 'failed', exitCode: 137, errorCode: 1212 });
    expect(s.diag).toContain('OOMKilled (memory limit 300Mi)');
  });
});

describe('buildJob', () => {
  it('sets resources, labels, deadline and the token from a Secret', () => {
    const params = kubeParamsSchema.parse({ tokenSecret: { name: 's' }, useMemoryLimit: true });
    const j = buildJob({
      workerId: 'ABC_1',
      queue: 'Q',
      cores: 4,
      memoryMb: 2000,
      walltimeS: 3600,
      params,
      pilotCommand: 'pilot',
      env: { PANDA_PILOT_QUEUE: 'Q' },
    });
    expect(jobName('ABC_1')).toBe('panda-abc-1');
    expect(j.metadata).toMatchObject({
      name: 'panda-abc-1',
      labels: { 'panda/queue': 'Q', 'panda/worker': 'ABC_1' },
    });
    expect(j.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 172800,
    });
    const c = j.spec!.template.spec!.containers[0]!;
    expect(c.command).toEqual(['/bin/sh', '-c', 'pilot']);
    expect(c.resources).toEqual({
      requests: { cpu: '3600m', memory: '2000Mi' },
      limits: { cpu: '4', memory: '2000Mi' },
    });
    expect(c.env).toContainEqual({
      name: 'PANDA_PILOT_TOKEN',
      valueFrom: { secretKeyRef: { name: 's', key: 'token' } },
    });
  });
});
