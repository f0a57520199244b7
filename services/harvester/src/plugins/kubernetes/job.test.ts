import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildJob,
  DEFAULT_PILOT_IMAGE,
  JOB_MOUNT_PATH,
  jobConfigMapName,
  jobWalltimeS,
  kubeParamsSchema,
  podLogPath,
  workerPodsPath,
} from './job.js';
import { loadPodTemplate } from './pod-template.js';

describe('buildJob, push mode and pod template', () => {
  const params = kubeParamsSchema.parse({});
  const input = {
    workerId: 'W1',
    queue: 'Q',
    cores: 1,
    memoryMb: 3000,
    walltimeS: 600,
    params,
    pilotCommand: 'pilot',
    env: { PANDA_PILOT_QUEUE: 'Q', PANDA_PILOT_WORK_DIR: '/mine' },
  };

  it('mounts the job ConfigMap and names the file for the pilot', () => {
    const j = buildJob({ ...input, jobConfigMap: jobConfigMapName('W1') });
    const pod = j.spec!.template.spec!;
    const c = pod.containers[0]!;
    expect(jobConfigMapName('W1')).toBe('panda-w1-job');
    expect(pod.volumes).toEqual([{ name: 'panda-job', configMap: { name: 'panda-w1-job' } }]);
    expect(c.volumeMounts).toEqual([{ name: 'panda-job', mountPath: JOB_MOUNT_PATH, readOnly: true }]);
    expect(c.env).toContainEqual({
      name: 'PANDA_PILOT_JOB_FILE',
      value: `${JOB_MOUNT_PATH}/pandaJobData.json`,
    });
    expect(c.env).toContainEqual({ name: 'PANDA_PILOT_MAX_JOBS', value: '1' });
    expect(c.image).toBe(DEFAULT_PILOT_IMAGE);
  });

  it('lays its pod over the template: template settings kept, its own win', () => {
    const podTemplate = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'elsewhere', labels: { 'app.kubernetes.io/name': 'pilot', 'panda/queue': 'x' } },
      spec: {
        restartPolicy: 'Always',
        serviceAccountName: 'panda-pilot',
        securityContext: { runAsNonRoot: true },
        nodeSelector: { pool: 'batch' },
        containers: [
          {
            name: 'main',
            image: 'registry/panda-pilot:1.2',
            env: [
              { name: 'PANDA_PILOT_WORK_DIR', value: '/work' },
              { name: 'PANDA_PILOT_GATEWAY_URL', value: 'http://gw' },
            ],
            resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '4Gi' } },
            securityContext: { readOnlyRootFilesystem: true },
            volumeMounts: [{ name: 'work', mountPath: '/work' }],
          },
          { name: 'sidecar', image: 'other' },
        ],
        volumes: [{ name: 'work', emptyDir: {} }],
      },
    };
    const j = buildJob({ ...input, podTemplate, jobConfigMap: 'cm' });
    const tpl = j.spec!.template;
    expect(tpl.metadata).toMatchObject({
      labels: { 'app.kubernetes.io/name': 'pilot', 'panda/queue': 'Q', 'panda/worker': 'W1' },
    });
    expect(tpl.metadata?.namespace).toBeUndefined();
    const pod = tpl.spec!;
    expect(pod).toMatchObject({
      restartPolicy: 'Never',
      serviceAccountName: 'panda-pilot',
      securityContext: { runAsNonRoot: true },
      nodeSelector: { pool: 'batch' },
    });
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0]!;
    expect(c).toMatchObject({ name: 'pilot', image: 'registry/panda-pilot:1.2' });
    expect(c.command).toBeUndefined(); // the image's entrypoint runs the pilot
    expect(c.securityContext).toEqual({ readOnlyRootFilesystem: true });
    expect(c.resources).toEqual({
      requests: { cpu: '900m', memory: '3000Mi' },
      limits: { cpu: '1', memory: '3000Mi' },
    });
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ PANDA_PILOT_WORK_DIR: '/mine', PANDA_PILOT_GATEWAY_URL: 'http://gw' });
    expect(c.env!.filter((e) => e.name === 'PANDA_PILOT_WORK_DIR')).toHaveLength(1);
    expect(c.volumeMounts!.map((m) => m.name)).toEqual(['work', 'panda-job']);
    expect(pod.volumes!.map((v) => v.name)).toEqual(['work', 'panda-job']);
  });

  it('refuses a template file that is not a pod with a container', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpl-'));
    const file = join(dir, 'pod.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: pilot\n      image: p\n',
    );
    expect(loadPodTemplate(file).spec?.containers[0]?.image).toBe('p');
    writeFileSync(file, 'kind: Deployment\n');
    expect(() => loadPodTemplate(file)).toThrow(/not a v1 Pod/);
    writeFileSync(file, 'kind: Pod\nspec: {}\n');
    expect(() => loadPodTemplate(file)).toThrow(/no spec.containers/);
  });
});

describe('walltime and log URLs of a Kubernetes worker', () => {
  const input = {
    workerId: 'W1',
    queue: 'Q',
    cores: 1,
    memoryMb: 3000,
    walltimeS: 600,
    params: kubeParamsSchema.parse({}),
    pilotCommand: 'pilot',
    env: {},
  };

  it("walltime: the Job's activeDeadlineSeconds (the queue's maxtime), or the pod template's if shorter", () => {
    expect(jobWalltimeS(buildJob(input))).toBe(600);
    expect(jobWalltimeS(buildJob({ ...input, walltimeS: 0 }))).toBe(0);
    const podTemplate = {
      spec: { activeDeadlineSeconds: 300, containers: [{ name: 'pilot', image: 'p' }] },
    };
    expect(jobWalltimeS(buildJob({ ...input, podTemplate }))).toBe(300);
    expect(jobWalltimeS(buildJob({ ...input, walltimeS: 0, podTemplate }))).toBe(300);
    expect(jobWalltimeS(buildJob({ ...input, walltimeS: 200, podTemplate }))).toBe(200);
  });

  it("log URL: the worker's pods by label until the pod is known, then the pod's log", () => {
    expect(workerPodsPath('panda-workers', 'a1b2-c3')).toBe(
      '/api/v1/namespaces/panda-workers/pods?labelSelector=panda%2Fworker%3Da1b2-c3',
    );
    // a worker id that is not a label value is written as its label
    expect(workerPodsPath('ns', 'w/1')).toBe('/api/v1/namespaces/ns/pods?labelSelector=panda%2Fworker%3Dw_1');
    expect(podLogPath('panda-workers', 'panda-a1b2-c3-x7k2p')).toBe(
      '/api/v1/namespaces/panda-workers/pods/panda-a1b2-c3-x7k2p/log',
    );
  });
});
