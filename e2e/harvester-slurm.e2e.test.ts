import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition, WorkerServiceDefinition } from '@panda/proto';
import {
  repoRootDir,
  startSlurm,
  startStack,
  submitWorkflow,
  waitFor,
  waitForWorkflow,
} from '@panda/testkit';
import type { PandaCli, SlurmHandle, Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

const root = repoRootDir();
const dir = mkdtempSync(join(tmpdir(), 'panda-e2e-slurm-'));
const tokenSecret = 'e2e-secret-shared-by-harvester-and-gateway';

/** config/queues.json plus a push-mode copy of the Slurm queue. */
function queuesWithSlurmPushQueue(): string {
  const catalogue = JSON.parse(readFileSync(join(root, 'config', 'queues.json'), 'utf8')) as {
    queues: { name: string; harvester: Record<string, unknown> }[];
  };
  const slurm = catalogue.queues.find((q) => q.name === 'SLAC_Rubin_Slurm')!;
  catalogue.queues.push({
    ...slurm,
    name: 'SLAC_Rubin_Slurm_Push',
    harvester: { ...slurm.harvester, mode: 'push' },
  });
  const file = join(dir, 'queues.json');
  writeFileSync(file, JSON.stringify(catalogue));
  return file;
}

function workflowFile(name: string, queue: string, n: number): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      name,
      campaign: 'e2e',
      user: 'tester',
      queue,
      maxAttempts: 1,
      jobs: Array.from({ length: n }, (_, i) => ({
        name: `isr_${i + 1}`,
        label: 'isr',
        command: `echo "job ${i + 1} in slurm job $SLURM_JOB_ID"`,
        parents: [],
        memoryMb: 1000,
        cores: 1,
      })),
    }),
  );
  return file;
}

describe('harvester on a Slurm-backed queue (real single-node Slurm)', () => {
  let slurm: SlurmHandle;
  let stack: Stack;
  let cli: PandaCli;

  beforeAll(async () => {
    // given a real Slurm (munge, slurmctld, slurmd; 16 declared CPUs) and the stack, with
    // harvester serving slurm queues (Slurm's commands find the cluster through SLURM_CONF) and
    // signing a token per worker, which the gateway requires
    slurm = await startSlurm({ cpus: 16 }); // under the OS temp folder: munge must traverse it
    stack = await startStack({
      dir,
      cycleMs: 500,
      queuesFile: queuesWithSlurmPushQueue(),
      serviceEnv: {
        harvester: { PANDA_SUBMITTERS: 'local,slurm', PANDA_PILOT_TOKEN_SECRET: tokenSecret, ...slurm.env },
        'pilot-gateway': { PANDA_PILOT_TOKEN_SECRET: tokenSecret, PANDA_REQUIRE_TOKEN: 'true' },
      },
    });
    cli = { repoRoot: root, env: stack.cliEnv };
  });
  afterAll(async () => {
    await stack?.stop();
    await slurm?.stop();
  });

  it('runs a workflow to Finished with pilots submitted by sbatch', async () => {
    // when a three-job workflow is submitted to SLAC_Rubin_Slurm
    const file = workflowFile('slurm', 'SLAC_Rubin_Slurm', 3);
    const id = await submitWorkflow(cli, file);
    const final = await waitForWorkflow(cli, id, { timeoutMs: 120_000 });

    // then it finished, run by workers that are Slurm jobs that ended COMPLETED
    expect(final.state).toBe('Finished');
    expect(final.counts).toMatchObject({ total: 3, finished: 3 });
    const channel = openChannel(stack.addresses.harvesterAddr);
    const client = createGrpcClient(WorkerServiceDefinition, channel);
    const list = async () =>
      (await client.listWorkers({ queue: 'SLAC_Rubin_Slurm', state: '', limit: 100 })).workers;
    // (pilots exit after the workflow ended: no more jobs)
    await waitFor(async () => (await list()).some((w) => w.state === 'finished'), 'a finished Slurm worker', {
      timeoutMs: 30_000,
    });
    const workers = await list();
    channel.close();
    expect(workers.every((w) => w.submitter === 'slurm' && /^\d+$/.test(w.batchId))).toBe(true);
  });

  it('runs push-queue jobs handed to the Slurm jobs in a file, with no getJob', async () => {
    // when two jobs are submitted to a push-mode Slurm queue
    const id = await submitWorkflow(cli, workflowFile('slurm-push', 'SLAC_Rubin_Slurm_Push', 2));
    const final = await waitForWorkflow(cli, id, { timeoutMs: 120_000 });

    // then they finished, each in the Slurm worker harvester acquired it for
    expect(final.state).toBe('Finished');
    const server = openChannel(stack.addresses.serverAddr);
    const { jobs } = await createGrpcClient(JobServiceDefinition, server).listJobs({
      workflowId: id,
      taskId: 0,
      state: '',
      queue: '',
      limit: 10,
      afterPandaId: 0,
    });
    server.close();
    const channel = openChannel(stack.addresses.harvesterAddr);
    const { workers } = await createGrpcClient(WorkerServiceDefinition, channel).listWorkers({
      queue: 'SLAC_Rubin_Slurm_Push',
      state: '',
      limit: 100,
    });
    channel.close();
    for (const job of jobs) {
      const worker = workers.find((w) => w.workerId === job.workerId);
      expect(worker, `worker of job ${job.pandaId}`).toMatchObject({ submitter: 'slurm' });
      const out = readFileSync(
        join(stack.dir, 'work', 'workers', job.workerId, `slurm-${worker!.batchId}.out`),
        'utf8',
      );
      expect(out).toContain('"msg":"job handed over by harvester"');
      expect(out).toContain(`job ${job.name.split('_')[1]} in slurm job ${worker!.batchId}`);
    }
    expect(new Set(jobs.map((j) => j.workerId)).size).toBe(2);
  });
});
