import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import { WorkerServiceDefinition } from '@panda/proto';
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

describe('harvester on a Slurm-backed queue (real single-node Slurm)', () => {
  let slurm: SlurmHandle;
  let stack: Stack;
  let cli: PandaCli;

  beforeAll(async () => {
    // given a real Slurm (munge, slurmctld, slurmd; 16 declared CPUs) and the stack, with
    // harvester serving slurm queues (Slurm's commands find the cluster through SLURM_CONF)
    slurm = await startSlurm({ cpus: 16 }); // under the OS temp folder: munge must traverse it
    stack = await startStack({
      dir,
      cycleMs: 500,
      serviceEnv: { harvester: { PANDA_SUBMITTERS: 'local,slurm', ...slurm.env } },
    });
    cli = { repoRoot: root, env: stack.cliEnv };
  });
  afterAll(async () => {
    await stack?.stop();
    await slurm?.stop();
  });

  it('runs a workflow to Finished with pilots submitted by sbatch', async () => {
    // when a three-job workflow is submitted to SLAC_Rubin_Slurm
    const file = join(dir, 'slurm.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'slurm',
        campaign: 'e2e',
        user: 'tester',
        queue: 'SLAC_Rubin_Slurm',
        maxAttempts: 1,
        jobs: [1, 2, 3].map((i) => ({
          name: `isr_${i}`,
          label: 'isr',
          command: `echo "job ${i} in slurm job $SLURM_JOB_ID"`,
          parents: [],
          memoryMb: 1000,
          cores: 1,
        })),
      }),
    );
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
});
