import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createGrpcClient, openChannel } from '@panda/platform';
import { QueueServiceDefinition, WorkerServiceDefinition } from '@panda/proto';
import type { TestJob } from '@panda/testkit';
import { repoRootDir, sleep, startStack, submitWorkflow, waitFor, writeWorkflowFile } from '@panda/testkit';
import type { PandaCli, Stack } from '@panda/testkit';
import type { Channel } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';
import { startFakeKube } from './fake-kube/server.js';
import type { FakeKube } from './fake-kube/server.js';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-pandaqueue-');
const QUEUE = 'CRD_Queue';
const RESOURCE = 'crd-queue';
const PQ = { group: 'panda.rubin.org', version: 'v1alpha1', plural: 'pandaqueues', namespace: 'default' };

interface PandaQueue {
  metadata: { name: string; generation: number };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    activatedJobs?: number;
    runningJobs?: number;
    submittedWorkers?: number;
    runningWorkers?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

const workflowFile = (name: string, jobs: TestJob[]): string =>
  writeWorkflowFile(dir, { name, queue: QUEUE, jobs });

describe('PandaQueue custom resources: server watches them, harvester follows and reports', () => {
  let kube: FakeKube;
  let stack: Stack;
  let cli: PandaCli;
  let api: CustomObjectsApi;
  let server: Channel;
  let harvester: Channel;

  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  /** `kubectl patch pandaqueue crd-queue --type merge -p <patch>` */
  const edit = (spec: Record<string, unknown>) =>
    api.patchNamespacedCustomObject({ ...PQ, name: RESOURCE, body: { spec } }, mergePatch);
  const resource = async () => (await api.getNamespacedCustomObject({ ...PQ, name: RESOURCE })) as PandaQueue;
  const accepted = async () => (await resource()).status?.conditions?.find((c) => c.type === 'Accepted');
  const queues = () => createGrpcClient(QueueServiceDefinition, server);
  const workers = () => createGrpcClient(WorkerServiceDefinition, harvester);
  const limits = async () => (await workers().getQueueLimits({ queue: QUEUE })).queues[0]!;
  const activeWorkers = async () =>
    (await workers().listWorkers({ queue: QUEUE, state: '', limit: 500 })).workers.filter((w) =>
      ['submitted', 'running', 'idle'].includes(w.state),
    ).length;
  const allWorkers = async () =>
    (await workers().listWorkers({ queue: QUEUE, state: '', limit: 500 })).workers.length;

  beforeAll(async () => {
    // given a PandaQueue in the fake API server (created with the real client, as kubectl would)
    kube = await startFakeKube(join(dir, 'kube'));
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfig);
    api = kc.makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({
      ...PQ,
      body: {
        apiVersion: 'panda.rubin.org/v1alpha1',
        kind: 'PandaQueue',
        metadata: { name: RESOURCE },
        spec: {
          name: QUEUE,
          site: 'CRD',
          status: 'online',
          corecount: 1,
          maxrss: 4000,
          maxtime: 172800,
          harvester: {
            submitter: 'local',
            mode: 'pull',
            maxWorkers: 1,
            nQueueLimitWorker: 3,
            maxNewWorkersPerCycle: 3,
            params: {},
          },
        },
      },
    });
    // and the stack, server watching PandaQueues there, harvester writing their status
    const kubeEnv = { PANDA_QUEUES_CRD: 'true', PANDA_KUBECONFIG: kube.kubeconfig };
    stack = await startStack({
      dir,
      cycleMs: 500,
      services: ['server', 'jedi', 'idds', 'pilot-gateway', 'harvester'],
      serviceEnv: { server: { ...kubeEnv, PANDA_QUEUES_CRD_NAMESPACE: 'default' }, harvester: kubeEnv },
    });
    cli = { repoRoot: root, env: stack.cliEnv };
    server = openChannel(stack.addresses.serverAddr);
    harvester = openChannel(stack.addresses.harvesterAddr);
  });
  afterAll(async () => {
    server?.close();
    harvester?.close();
    await stack?.stop();
    await kube?.stop();
  });

  it('serves the queue a PandaQueue defines, marks it Accepted and shows its counts in the status', async () => {
    // then server serves the queue with the resource named, and says so in the status
    const queue = await queues().getQueue({ name: QUEUE });
    expect(queue).toMatchObject({
      status: 'online',
      minrssMb: 0,
      harvester: { submitter: 'local', maxWorkers: 1 },
      resource: { namespace: 'default', name: RESOURCE },
    });
    await waitFor(async () => (await accepted())?.status === 'True', 'Accepted condition', {
      timeoutMs: 10_000,
    });
    expect((await resource()).status?.observedGeneration).toBe(1);

    // when ten slow jobs are submitted to it
    await submitWorkflow(
      cli,
      workflowFile(
        'slow',
        Array.from({ length: 10 }, (_, i) => ({ name: `isr_${i}`, command: 'sleep 3' })),
      ),
    );

    // then harvester writes jobs and workers into the status (the printer columns)
    await waitFor(
      async () => {
        const s = (await resource()).status;
        return (s?.runningWorkers ?? 0) === 1 && (s?.activatedJobs ?? 0) > 0 && (s?.runningJobs ?? 0) === 1;
      },
      'status with one running worker and activated jobs',
      { timeoutMs: 30_000 },
    );
    // and keeps to maxWorkers 1, as GetQueueLimits explains
    for (let i = 0; i < 6; i++) {
      expect(await activeWorkers()).toBeLessThanOrEqual(1);
      await sleep(500);
    }
    expect(await limits()).toMatchObject({ maxWorkers: 1, nNewWorkers: 0, boundBy: 'max_workers' });
  });

  it('when maxWorkers is raised, harvester runs more workers at once without a restart', async () => {
    // when the API server ends server's watch (as it does at its timeout) and meanwhile the
    // operator raises maxWorkers to 3
    kube.pandaQueues.closeWatches();
    await edit({ harvester: { maxWorkers: 3 } });

    // then server lists again, and harvester sees the new limit: three workers run side by side
    await waitFor(async () => (await limits()).maxWorkers === 3, 'new limit at harvester', {
      timeoutMs: 10_000,
    });
    await waitFor(async () => (await activeWorkers()) === 3, 'three active workers', { timeoutMs: 20_000 });
    await waitFor(
      async () => {
        const s = (await resource()).status;
        return (s?.runningWorkers ?? 0) + (s?.submittedWorkers ?? 0) >= 2;
      },
      'status counting the new workers',
      { timeoutMs: 10_000 },
    );
    expect((await resource()).status?.observedGeneration).toBe(2);
    // and never more than three
    for (let i = 0; i < 4; i++) {
      expect(await activeWorkers()).toBeLessThanOrEqual(3);
      await sleep(250);
    }
  });

  it('when set offline, harvester starts no worker for it; its jobs wait, counted in the status', async () => {
    await waitFor(async () => (await activeWorkers()) === 0, 'first workflow drained', { timeoutMs: 60_000 });
    // when the queue is set offline
    await edit({ status: 'offline' });
    await waitFor(
      async () => (await queues().getQueue({ name: QUEUE })).status === 'offline',
      'queue offline',
      {
        timeoutMs: 10_000,
      },
    );
    const before = await allWorkers();

    // and two jobs are submitted to it
    await submitWorkflow(
      cli,
      workflowFile('offline', [
        { name: 'calib_1', command: 'true' },
        { name: 'calib_2', command: 'true' },
      ]),
    );

    // then they wait, the status shows them, and no worker starts
    await waitFor(async () => (await resource()).status?.activatedJobs === 2, 'status: 2 activated jobs', {
      timeoutMs: 30_000,
    });
    await sleep(3000); // six harvester cycles
    expect(await allWorkers()).toBe(before);
    expect(await limits()).toMatchObject({
      status: 'offline',
      nNewWorkers: 0,
      boundBy: 'status',
      activatedJobs: 2,
    });
  });

  it('refuses a malformed edit with a message naming the field, and changes nothing', async () => {
    const before = await allWorkers();
    // when an edit sets the queue online but with minrss above maxrss
    await edit({ status: 'online', minrss: 9000 });

    // then the resource says why it was refused, and that the previous version stays
    await waitFor(async () => (await accepted())?.status === 'False', 'Accepted False', {
      timeoutMs: 10_000,
    });
    const refused = await resource();
    expect(refused.status?.observedGeneration).toBe(refused.metadata.generation);
    const condition = refused.status!.conditions!.find((c) => c.type === 'Accepted')!;
    expect(condition.reason).toBe('InvalidSpec');
    expect(condition.message).toMatch(/spec\.minrss: minrss must not exceed maxrss/);
    expect(condition.message).toMatch(/previous version of queue CRD_Queue stays in force/);
    // and the queue is as it was: offline, minrss 0, no new workers
    expect(await queues().getQueue({ name: QUEUE })).toMatchObject({ status: 'offline', minrssMb: 0 });
    await sleep(2000);
    expect(await allWorkers()).toBe(before);

    // when the edit is corrected, the queue is online again and its jobs run
    await edit({ minrss: 0 });
    await waitFor(async () => (await accepted())?.status === 'True', 'Accepted again', { timeoutMs: 10_000 });
    expect(await queues().getQueue({ name: QUEUE })).toMatchObject({ status: 'online' });
    await waitFor(async () => (await resource()).status?.activatedJobs === 0, 'jobs taken', {
      timeoutMs: 30_000,
    });
  });

  it('deleting the PandaQueue removes its queue', async () => {
    const ids = await queues().listQueues({});
    expect(ids.queues.map((q) => q.name)).toContain(QUEUE);
    await api.deleteNamespacedCustomObject({ ...PQ, name: RESOURCE });
    await waitFor(
      async () => !(await queues().listQueues({})).queues.some((q) => q.name === QUEUE),
      'queue gone',
      { timeoutMs: 10_000 },
    );
    await expect(queues().getQueue({ name: QUEUE })).rejects.toThrow(/not found/i);
  });
});
