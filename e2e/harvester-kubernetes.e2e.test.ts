import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition, ListJobsRequest, WorkerServiceDefinition } from '@panda/proto';
import type { TestJob } from '@panda/testkit';
import {
  repoRootDir,
  startStack,
  submitWorkflow,
  waitFor,
  waitForWorkflow,
  writeWorkflowFile,
} from '@panda/testkit';
import type { PandaCli, Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKube } from './fake-kube/server.js';
import type { FakeKube } from './fake-kube/server.js';

const root = repoRootDir();
const dir = mkdtempSync(join(tmpdir(), 'panda-e2e-k8s-'));
const tokenSecret = 'e2e-secret-shared-by-harvester-and-gateway';

/** config/queues.json plus a queue whose pods get a 300 MiB memory limit, and a push queue. */
function queuesWithSmallK8sQueue(): string {
  const catalogue = JSON.parse(readFileSync(join(root, 'config', 'queues.json'), 'utf8')) as {
    queues: { name: string; maxrss: number; harvester: Record<string, unknown> }[];
  };
  const k8s = catalogue.queues.find((q) => q.name === 'SLAC_Rubin_K8s')!;
  catalogue.queues.push({ ...k8s, name: 'SLAC_Rubin_K8s_Small', maxrss: 300 });
  catalogue.queues.push({
    ...k8s,
    name: 'SLAC_Rubin_K8s_Push',
    harvester: {
      ...k8s.harvester,
      mode: 'push',
      maxWorkers: 2,
      nQueueLimitWorker: 2,
      maxNewWorkersPerCycle: 2,
    },
  });
  const file = join(dir, 'queues.json');
  writeFileSync(file, JSON.stringify(catalogue));
  return file;
}

const workflow = (name: string, queue: string, jobs: TestJob[]): string =>
  writeWorkflowFile(dir, { name, queue, jobs, defaults: { memoryMb: 100 } });

describe('harvester on a Kubernetes-backed queue (fake API server, real client)', () => {
  let kube: FakeKube;
  let stack: Stack;
  let cli: PandaCli;

  beforeAll(async () => {
    // given a fake Kubernetes API server with the pilot token Secret, created with the real client
    kube = await startFakeKube(join(dir, 'kube'));
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'panda-pilot-token' }, stringData: { token: 'e2e-token' } },
    });
    // and the stack with harvester serving kubernetes queues through it, signing a token per
    // worker that the gateway requires
    stack = await startStack({
      dir,
      cycleMs: 500,
      queuesFile: queuesWithSmallK8sQueue(),
      serviceEnv: {
        harvester: {
          PANDA_SUBMITTERS: 'local,kubernetes',
          PANDA_KUBECONFIG: kube.kubeconfig,
          PANDA_PILOT_TOKEN_SECRET: tokenSecret,
        },
        'pilot-gateway': { PANDA_PILOT_TOKEN_SECRET: tokenSecret, PANDA_REQUIRE_TOKEN: 'true' },
      },
    });
    cli = { repoRoot: root, env: stack.cliEnv };
  });
  afterAll(async () => {
    await stack?.stop();
    await kube?.stop();
  });

  it('runs a workflow to Finished with pilots in Jobs, then deletes the Jobs', async () => {
    // when a three-job workflow is submitted to SLAC_Rubin_K8s
    const file = workflow('k8s', 'SLAC_Rubin_K8s', [
      { name: 'isr_1', command: 'echo isr 1', parents: [] },
      { name: 'isr_2', command: 'echo isr 2', parents: [] },
      { name: 'isr_3', command: 'true', parents: [] },
    ]);
    const id = await submitWorkflow(cli, file);
    const final = await waitForWorkflow(cli, id, { timeoutMs: 120_000 });

    // then it finished, and the pilots ran as pods created by harvester's Jobs
    expect(final.state).toBe('Finished');
    expect(final.counts).toMatchObject({ total: 3, finished: 3 });
    expect(kube.requests).toContain('POST /apis/batch/v1/namespaces/default/jobs');
    const job = kube.created[0]!;
    const container = job.spec.template.spec.containers[0];
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 172800,
      ttlSecondsAfterFinished: 3600,
    });
    expect(job.metadata.labels).toMatchObject({ 'panda/queue': 'SLAC_Rubin_K8s' });
    expect(container.resources).toEqual({
      requests: { cpu: '900m', memory: '4000Mi' },
      limits: { cpu: '1', memory: '4000Mi' },
    });
    // and each pilot read its own token from a per-worker Secret (not the queue's shared one)
    const tokenSecretName = `${String(job.metadata.name)}-token`;
    expect(container.env).toContainEqual({
      name: 'PANDA_PILOT_TOKEN',
      valueFrom: { secretKeyRef: { name: tokenSecretName, key: 'token' } },
    });
    expect(JSON.stringify(container.env)).not.toContain('v1.');
    expect(kube.requests).toContain('POST /api/v1/namespaces/default/secrets');
    const channel = openChannel(stack.addresses.harvesterAddr);
    const workers = createGrpcClient(WorkerServiceDefinition, channel);
    const { workers: list } = await workers.listWorkers({ queue: 'SLAC_Rubin_K8s', state: '', limit: 100 });
    channel.close();
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((w) => w.submitter === 'kubernetes' && w.batchId.startsWith('panda-'))).toBe(true);
    // each with the Job's deadline as walltime, and a finished one with its pod's log (seen by the
    // monitor step) as log URL
    for (const w of list) expect(w.walltimeS).toBe(172800);
    for (const w of list.filter((x) => x.state === 'finished'))
      expect(w.logUrl).toMatch(new RegExp(`^/api/v1/namespaces/default/pods/${w.batchId}-[a-z0-9]+/log$`));
    // and finished workers' Jobs are swept (deleted) once recorded
    const ended = new Set(list.filter((w) => w.state === 'finished').map((w) => w.batchId));
    expect(ended.size).toBeGreaterThan(0);
    await waitFor(
      async () => kube.jobs().every((j) => !ended.has(String(j.metadata.name))),
      'finished Jobs deleted',
      { timeoutMs: 10_000 },
    );
    // with their token Secrets
    for (const name of ended) {
      expect(kube.requests).toContain(`DELETE /api/v1/namespaces/default/secrets/${name}-token`);
    }
  });

  it('push mode: hands each job to its pod in a ConfigMap, which the sweeper deletes with the Job', async () => {
    // when a two-job workflow is submitted to the push queue SLAC_Rubin_K8s_Push
    const file = workflow('k8s-push', 'SLAC_Rubin_K8s_Push', [
      { name: 'merge_1', command: 'echo "pushed job $PANDA_JOB_ID"', parents: [] },
      { name: 'merge_2', command: 'echo "pushed job $PANDA_JOB_ID"', parents: [] },
    ]);
    const id = await submitWorkflow(cli, file);
    const final = await waitForWorkflow(cli, id, { timeoutMs: 120_000 });

    // then it finished, each job in a pod whose Job mounts the worker's job ConfigMap and tells
    // the pilot where the job file is
    expect(final.state).toBe('Finished');
    const pushJobs = kube.created.filter((j) => j.metadata.labels['panda/queue'] === 'SLAC_Rubin_K8s_Push');
    expect(pushJobs).toHaveLength(2);
    for (const job of pushJobs) {
      const pod = job.spec.template.spec;
      const configMap = `${String(job.metadata.name)}-job`;
      expect(pod.volumes).toContainEqual({ name: 'panda-job', configMap: { name: configMap } });
      expect(pod.containers[0].volumeMounts).toContainEqual({
        name: 'panda-job',
        mountPath: '/etc/panda/job',
        readOnly: true,
      });
      expect(pod.containers[0].env).toContainEqual({
        name: 'PANDA_PILOT_JOB_FILE',
        value: '/etc/panda/job/pandaJobData.json',
      });
      expect(pod.containers[0].env).toContainEqual({ name: 'PANDA_PILOT_MAX_JOBS', value: '1' });
    }
    // and each job ran in the worker it was pushed to, whose pilot never asked for a job
    const channel = openChannel(stack.addresses.serverAddr);
    const { jobs } = await createGrpcClient(JobServiceDefinition, channel).listJobs(
      ListJobsRequest.fromPartial({ workflowId: id, limit: 10 }),
    );
    channel.close();
    const hchannel = openChannel(stack.addresses.harvesterAddr);
    const { workers } = await createGrpcClient(WorkerServiceDefinition, hchannel).listWorkers({
      queue: 'SLAC_Rubin_K8s_Push',
      state: '',
      limit: 10,
    });
    hchannel.close();
    expect(jobs).toHaveLength(2);
    for (const job of jobs) {
      expect(job.state).toBe('finished');
      expect(job.metrics?.getjobS ?? 0).toBe(0);
      const worker = workers.find((w) => w.workerId === job.workerId);
      expect(pushJobs.map((j) => j.metadata.name)).toContain(worker?.batchId);
    }
    // and the ConfigMaps were deleted with the Jobs once the workers' ends were recorded
    await waitFor(async () => kube.configMaps().length === 0, 'job ConfigMaps deleted', {
      timeoutMs: 10_000,
    });
    for (const job of pushJobs) {
      expect(kube.requests).toContain(`POST /api/v1/namespaces/default/configmaps`);
      expect(kube.requests).toContain(
        `DELETE /api/v1/namespaces/default/configmaps/${String(job.metadata.name)}-job`,
      );
    }
  });

  it('reports an OOMKilled pod as a failed worker with the out-of-memory code', async () => {
    // when a job's payload grows beyond the queue's 300 MiB pod memory limit
    const file = workflow('k8s-oom', 'SLAC_Rubin_K8s_Small', [
      {
        name: 'hog',
        command: `python3 -c "x = bytearray(600 * 1024 * 1024); import time; time.sleep(30)"`,
        parents: [],
      },
    ]);
    await submitWorkflow(cli, file);

    // then the pod is OOMKilled and harvester records the worker failed with code 1212
    const channel = openChannel(stack.addresses.harvesterAddr);
    const workers = createGrpcClient(WorkerServiceDefinition, channel);
    let failed: { diag: string; exitCode: number; state: string } | undefined;
    await waitFor(
      async () => {
        const res = await workers.listWorkers({ queue: 'SLAC_Rubin_K8s_Small', state: 'failed', limit: 10 });
        failed = res.workers[0];
        return failed !== undefined;
      },
      'a failed worker on SLAC_Rubin_K8s_Small',
      { timeoutMs: 60_000 },
    );
    channel.close();
    expect(failed).toMatchObject({ state: 'failed', exitCode: 137 });
    expect(failed!.diag).toMatch(/^\[sup 1212 WORKEROOM\] container OOMKilled \(memory limit 300Mi\)/);
  });
});
