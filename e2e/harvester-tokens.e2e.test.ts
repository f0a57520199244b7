import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import {
  JobServiceDefinition,
  ListJobsRequest,
  QueueServiceDefinition,
  WorkerServiceDefinition,
} from '@panda/proto';
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
import { scratchDir } from './support/scratch-dir.js';

const root = repoRootDir();
const secret = 'e2e-secret-shared-by-harvester-and-gateway';

/** A workflow on SLAC_Rubin: two roots and a child of both. */
const workflowFile = (dir: string, name: string): string =>
  writeWorkflowFile(dir, {
    name,
    queue: 'SLAC_Rubin',
    jobs: [
      { name: 'isr_1', command: 'echo isr 1' },
      { name: 'isr_2', command: 'echo isr 2' },
      { name: 'calib_1', command: 'echo calib', parents: ['isr_1', 'isr_2'] },
    ],
  });

/** The stack with tokens required at the gateway and harvester signing with `harvesterSecret`. */
const tokenStack = (dir: string, harvesterSecret: string) =>
  startStack({
    dir,
    cycleMs: 500,
    services: ['server', 'jedi', 'idds', 'pilot-gateway', 'harvester'],
    serviceEnv: {
      'pilot-gateway': { PANDA_PILOT_TOKEN_SECRET: secret, PANDA_REQUIRE_TOKEN: 'true' },
      harvester: { PANDA_PILOT_TOKEN_SECRET: harvesterSecret },
    },
  });

describe('pilot tokens: harvester signs one per worker, the gateway requires them', () => {
  const dir = scratchDir('panda-e2e-tokens-');
  let stack: Stack;
  let cli: PandaCli;

  beforeAll(async () => {
    // given the gateway refusing calls without a valid token, and harvester signing with its secret
    stack = await tokenStack(dir, secret);
    cli = { repoRoot: root, env: stack.cliEnv };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs a workflow to Finished through harvester-started pilots', async () => {
    // when a workflow of three jobs in two levels is submitted
    const id = await submitWorkflow(cli, workflowFile(dir, 'tokens'));
    const final = await waitForWorkflow(cli, id, { timeoutMs: 120_000 });

    // then it finished, each job run by a worker harvester started (with its token: none is
    // accepted without one)
    expect(final.state).toBe('Finished');
    expect(final.counts).toMatchObject({ total: 3, finished: 3 });
    const server = openChannel(stack.addresses.serverAddr);
    const harvester = openChannel(stack.addresses.harvesterAddr);
    const { jobs } = await createGrpcClient(JobServiceDefinition, server).listJobs(
      ListJobsRequest.fromPartial({ workflowId: id, limit: 10 }),
    );
    const { workers } = await createGrpcClient(WorkerServiceDefinition, harvester).listWorkers({
      queue: 'SLAC_Rubin',
      state: '',
      limit: 100,
    });
    server.close();
    harvester.close();
    const workerIds = new Set(workers.map((w) => w.workerId));
    expect(jobs.map((j) => j.state)).toEqual(['finished', 'finished', 'finished']);
    expect(jobs.every((j) => workerIds.has(j.workerId))).toBe(true);
  });
});

describe('a token signed with a secret the gateway does not share', () => {
  const dir = scratchDir('panda-e2e-forged-');
  let stack: Stack;
  let cli: PandaCli;

  beforeAll(async () => {
    // given harvester signing with another secret than the gateway's
    stack = await tokenStack(dir, 'a-different-secret-the-gateway-does-not-know');
    cli = { repoRoot: root, env: stack.cliEnv };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('is refused: the pilot gets no job, its worker fails, the jobs stay activated', async () => {
    // when a workflow is submitted
    await submitWorkflow(cli, workflowFile(dir, 'forged'));

    // then harvester's pilots are refused by the gateway and their workers fail
    const harvester = openChannel(stack.addresses.harvesterAddr);
    const workers = createGrpcClient(WorkerServiceDefinition, harvester);
    let failed: { workerId: string; diag: string } | undefined;
    await waitFor(
      async () => {
        ({
          workers: [failed],
        } = await workers.listWorkers({ queue: 'SLAC_Rubin', state: 'failed', limit: 1 }));
        return failed !== undefined;
      },
      'a failed worker on SLAC_Rubin',
      { timeoutMs: 60_000 },
    );
    harvester.close();
    expect(failed!.diag).toMatch(/^pilot exited with code 1 /);
    const pilotLog = join(stack.dir, 'work', 'workers', failed!.workerId, 'pilot.log');
    expect(existsSync(pilotLog)).toBe(true);
    expect(readFileSync(pilotLog, 'utf8')).toMatch(
      /gateway answered 401: token rejected: token signature does not match \(forged, or signed with another secret\)/,
    );

    // and no job was handed out: both roots are still activated
    const server = openChannel(stack.addresses.serverAddr);
    const { stats } = await createGrpcClient(QueueServiceDefinition, server).queueStats({
      queues: ['SLAC_Rubin'],
    });
    server.close();
    expect(stats[0]).toMatchObject({ queue: 'SLAC_Rubin', activated: 2, sent: 0, starting: 0, running: 0 });
  });
});
