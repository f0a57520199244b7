import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition, ListJobsRequest, WorkerServiceDefinition } from '@panda/proto';
import type { Job, Worker } from '@panda/proto';
import type { TestJob } from '@panda/testkit';
import {
  repoRootDir,
  startSlurm,
  startStack,
  submitWorkflow,
  waitFor,
  waitForWorkflow,
  writeWorkflowFile,
} from '@panda/testkit';
import type { PandaCli, SlurmHandle, Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-slurm-');
const tokenSecret = 'e2e-secret-shared-by-harvester-and-gateway';

/**
 * config/queues.json plus a push-mode copy of the Slurm queue, and a site with two Slurm queues
 * for the memory case: `SLAC_Rubin_Slurm_Small` (Slurm jobs get 300 MB on partition `rubin`) and
 * `SLAC_Rubin_Slurm_Himem` (2000 MB on `rubin_himem`).
 */
function slurmQueues(): string {
  const catalogue = JSON.parse(readFileSync(join(root, 'config', 'queues.json'), 'utf8')) as {
    queues: { name: string; harvester: Record<string, unknown> }[];
  };
  const slurm = catalogue.queues.find((q) => q.name === 'SLAC_Rubin_Slurm')!;
  const memoryQueue = (name: string, minrss: number, maxrss: number, partition: string) => ({
    ...slurm,
    name,
    site: 'SLAC_SLURM_MEM',
    minrss,
    maxrss,
    harvester: { ...slurm.harvester, params: { partition } },
  });
  catalogue.queues.push(
    { ...slurm, name: 'SLAC_Rubin_Slurm_Push', harvester: { ...slurm.harvester, mode: 'push' } },
    memoryQueue('SLAC_Rubin_Slurm_Small', 0, 300, 'rubin'),
    memoryQueue('SLAC_Rubin_Slurm_Himem', 300, 2000, 'rubin_himem'),
  );
  const file = join(dir, 'queues.json');
  writeFileSync(file, JSON.stringify(catalogue));
  return file;
}

const workflowFile = (
  name: string,
  queue: string,
  n: number,
  job: Partial<TestJob> = {},
  header: Record<string, unknown> = {},
): string =>
  writeWorkflowFile(dir, {
    name,
    queue,
    ...header,
    defaults: { memoryMb: 1000 },
    jobs: Array.from({ length: n }, (_, i) => ({
      name: `isr_${i + 1}`,
      command: `echo "job ${i + 1} in slurm job $SLURM_JOB_ID"`,
      ...job,
    })),
  });

async function jobsOf(workflowId: number): Promise<Job[]> {
  const server = openChannel(stack.addresses.serverAddr);
  try {
    const { jobs } = await createGrpcClient(JobServiceDefinition, server).listJobs(
      ListJobsRequest.fromPartial({ workflowId, limit: 10 }),
    );
    return jobs;
  } finally {
    server.close();
  }
}

async function workersOf(queue: string): Promise<Worker[]> {
  const channel = openChannel(stack.addresses.harvesterAddr);
  try {
    return (
      await createGrpcClient(WorkerServiceDefinition, channel).listWorkers({ queue, state: '', limit: 100 })
    ).workers;
  } finally {
    channel.close();
  }
}

let stack: Stack;

describe('harvester on a Slurm-backed queue (real single-node Slurm)', () => {
  let slurm: SlurmHandle;
  let cli: PandaCli;

  beforeAll(async () => {
    // given a real Slurm (munge, slurmctld, slurmd; 16 declared CPUs) and the stack, with
    // harvester serving slurm queues (Slurm's commands find the cluster through SLURM_CONF) and
    // signing a token per worker, which the gateway requires
    slurm = await startSlurm({ cpus: 16 }); // under the OS temp folder: munge must traverse it
    stack = await startStack({
      dir,
      cycleMs: 500,
      queuesFile: slurmQueues(),
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
    const list = () => workersOf('SLAC_Rubin_Slurm');
    // (pilots exit after the workflow ended: no more jobs)
    await waitFor(async () => (await list()).some((w) => w.state === 'finished'), 'a finished Slurm worker', {
      timeoutMs: 30_000,
    });
    const workers = await list();
    expect(workers.every((w) => w.submitter === 'slurm' && /^\d+$/.test(w.batchId))).toBe(true);
  });

  it('runs push-queue jobs handed to the Slurm jobs in a file, with no getJob', async () => {
    // when two jobs are submitted to a push-mode Slurm queue
    const id = await submitWorkflow(cli, workflowFile('slurm-push', 'SLAC_Rubin_Slurm_Push', 2));
    const final = await waitForWorkflow(cli, id, { timeoutMs: 120_000 });

    // then they finished, each in the Slurm worker harvester acquired it for
    expect(final.state).toBe('Finished');
    const jobs = await jobsOf(id);
    const workers = await workersOf('SLAC_Rubin_Slurm_Push');
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

  it('fails a job Slurm killed over its memory with the OOM code and retries it with more memory', async () => {
    // given a 250 MB job whose payload holds 400 MB, on SLAC_Rubin_Slurm_Small, whose Slurm jobs
    // get --mem=300: Slurm (OverMemoryKill, polling every second) kills the whole batch step,
    // pilot included, so the pilot cannot report. The pilot's own check (PSS > 250 MB x memory
    // grace 2 = 500 MB -> 1235, sampled every 60 s) cannot fire first: 400 MB is under it.
    const hog = `python3 -c "import time; a = b'x' * (400 * 1024 * 1024); time.sleep(8)"`;
    const command = `echo "in partition $SLURM_JOB_PARTITION with $SLURM_MEM_PER_NODE MB"; ${hog}`;
    // when it runs in a workflow allowing two attempts and doubling memory after an OOM
    const file = workflowFile(
      'slurm-oom',
      'SLAC_Rubin_Slurm_Small',
      1,
      { command, memoryMb: 250 },
      { maxAttempts: 2, memoryMultiplier: 2 },
    );
    const id = await submitWorkflow(cli, file);
    const final = await waitForWorkflow(cli, id, { timeoutMs: 180_000 });

    // then the first attempt failed with supervisor 1212 from its worker, not the pilot's 1235,
    // and jedi's retry doubled the memory, which brokered it to SLAC_Rubin_Slurm_Himem
    const jobs = await jobsOf(id);
    expect(jobs.map((j) => [j.attemptNr, j.state, j.memoryMb, j.queue])).toEqual([
      [1, 'failed', 250, 'SLAC_Rubin_Slurm_Small'],
      [2, 'finished', 500, 'SLAC_Rubin_Slurm_Himem'],
    ]);
    const [first, second] = jobs as [Job, Job];
    expect(first.errors).toContainEqual(
      expect.objectContaining({
        source: 'sup',
        code: 1212,
        diag: expect.stringMatching(/exceeded its memory limit/),
      }),
    );
    expect(first.errors.map((e) => e.code)).not.toContain(1235);
    // and the killed worker shows the OOM code, Slurm's measure against its 300 MB and its end state
    const killed = (await workersOf('SLAC_Rubin_Slurm_Small')).find((w) => w.workerId === first.workerId);
    expect(killed).toMatchObject({ submitter: 'slurm', state: 'failed', errorCode: 1212, exitCode: 137 });
    expect(killed!.nativeStatus).toMatch(/^FAILED/);
    expect(killed!.diag).toMatch(
      new RegExp(
        `Slurm job ${killed!.batchId} exceeded its memory limit: StepId=${killed!.batchId}\\.batch used \\d+ MB > limit 300 MB; ended FAILED`,
      ),
    );
    const killedOut = readFileSync(
      join(stack.dir, 'work', 'workers', killed!.workerId, `slurm-${killed!.batchId}.out`),
      'utf8',
    );
    expect(killedOut).toContain('in partition rubin with 300 MB');
    expect(killedOut).toMatch(/^slurmstepd\S*: error: Exceeded job memory limit$/m);
    // and the second attempt's Slurm job had rubin_himem's 2000 MB, and the workflow finished
    // (its pilot exits once it finds no more jobs)
    const himemWorker = async () =>
      (await workersOf('SLAC_Rubin_Slurm_Himem')).find((w) => w.workerId === second.workerId);
    await waitFor(async () => (await himemWorker())?.state === 'finished', 'the himem worker to finish', {
      timeoutMs: 30_000,
    });
    const big = await himemWorker();
    expect(big).toMatchObject({ submitter: 'slurm', state: 'finished' });
    const out = readFileSync(
      join(stack.dir, 'work', 'workers', big!.workerId, `slurm-${big!.batchId}.out`),
      'utf8',
    );
    expect(out).toContain('in partition rubin_himem with 2000 MB');
    expect(final.state).toBe('Finished');
  });
});
