import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition, ListJobsRequest, WorkflowServiceDefinition } from '@panda/proto';
import { repoRootDir, runPanda, startStack, submitWorkflow, waitForWorkflow } from '@panda/testkit';
import type { PandaCli, Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';
import { stringify } from 'yaml';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-');

describe('a workflow through every service, each its own process', () => {
  let stack: Stack;
  let cli: PandaCli;

  beforeAll(async () => {
    // given the whole stack: PostgreSQL, nats-server, server, jedi, idds, pilot-gateway, harvester, monitor
    stack = await startStack({ dir, logLevel: 'info', cycleMs: 500 });
    cli = { repoRoot: root, env: stack.cliEnv };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs the example Rubin DAG to Finished with every job succeeded', async () => {
    // when the example workflow is submitted with the CLI
    const id = await submitWorkflow(cli, join(root, 'examples', 'rubin-demo.yaml'));
    const final = await waitForWorkflow(cli, id, { timeoutMs: 150_000 });

    // then it finished, every node succeeded, and the report says so per label
    expect(final.state).toBe('Finished');
    expect(final.counts).toMatchObject({ total: 19, finished: 19, failed: 0, pruned: 0, remaining: 0 });
    const report = await runPanda(cli, ['report', String(id), '--json']);
    expect(report.code).toBe(0);
    const { rows, total } = JSON.parse(report.stdout) as {
      rows: { label: string; succeeded: number; expected: number }[];
      total: { succeeded: number; expected: number };
    };
    expect(rows.map((r) => [r.label, r.succeeded])).toEqual([
      ['pipetaskInit', 1],
      ['isr', 6],
      ['characterizeImage', 6],
      ['calibrate', 6],
    ]);
    expect(total).toMatchObject({ succeeded: 19, expected: 19 });

    // and the jobs ran for real: each pilot reported finished with exit code 0
    const channel = openChannel(stack.addresses.serverAddr);
    const { jobs } = await createGrpcClient(JobServiceDefinition, channel).listJobs(
      ListJobsRequest.fromPartial({ workflowId: id, limit: 100 }),
    );
    channel.close();
    expect(jobs).toHaveLength(19);
    expect(jobs.every((j) => j.state === 'finished' && j.exitCode === 0 && j.workerId !== '')).toBe(true);

    // and the monitor shows it
    const res = await fetch(`${stack.addresses.monitorUrl}/workflows?json`);
    const body = (await res.json()) as { workflows: { workflowId: number; state: string }[] };
    expect(body.workflows.find((w) => w.workflowId === id)?.state).toBe('Finished');
  });

  it('retries a failing job, prunes its descendants and ends SubFinished', async () => {
    // given a workflow whose middle job always fails
    const file = join(dir, 'failing.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'failing',
        campaign: 'e2e',
        user: 'tester',
        queue: 'SLAC_Rubin',
        maxAttempts: 2,
        jobs: [
          {
            name: 'init',
            label: 'pipetaskInit',
            command: 'echo init',
            parents: [],
            memoryMb: 1000,
            cores: 1,
          },
          { name: 'ok_1', label: 'isr', command: 'echo ok', parents: ['init'], memoryMb: 1000, cores: 1 },
          {
            name: 'bad_1',
            label: 'isr',
            command: 'echo "only 0 sources, but require at least 2." >&2; exit 3',
            parents: ['init'],
            memoryMb: 1000,
            cores: 1,
          },
          {
            name: 'cal_ok',
            label: 'calibrate',
            command: 'true',
            parents: ['ok_1'],
            memoryMb: 1000,
            cores: 1,
          },
          {
            name: 'cal_bad',
            label: 'calibrate',
            command: 'true',
            parents: ['bad_1'],
            memoryMb: 1000,
            cores: 1,
          },
        ],
      }),
    );
    // when it runs
    const id = await submitWorkflow(cli, file);
    const final = await waitForWorkflow(cli, id, { timeoutMs: 120_000 });

    // then the failing job was tried twice, its child was pruned, the rest succeeded
    expect(final.state).toBe('SubFinished');
    expect(final.counts).toMatchObject({ total: 5, finished: 3, failed: 1, pruned: 1 });
    const channel = openChannel(stack.addresses.serverAddr);
    const { jobs } = await createGrpcClient(JobServiceDefinition, channel).listJobs(
      ListJobsRequest.fromPartial({ workflowId: id, state: 'failed', limit: 100 }),
    );
    channel.close();
    expect(jobs.map((j) => [j.name, j.attemptNr, j.exitCode, j.errorCode])).toEqual([
      ['bad_1', 1, 3, 1305],
      ['bad_1', 2, 3, 1305],
    ]);
    expect(jobs[0]!.errorDiag).toContain('only 0 sources, but require at least 2.');
  });

  it('refuses a malformed workflow, naming the job, and stores nothing', async () => {
    // given a workflow with a cycle
    const file = join(dir, 'cycle.yaml');
    const demo = readFileSync(join(root, 'examples', 'rubin-demo.yaml'), 'utf8');
    expect(demo).toContain('pipetaskInit');
    writeFileSync(
      file,
      stringify({
        name: 'cyclic',
        campaign: 'e2e',
        user: 'tester',
        queue: 'SLAC_Rubin',
        maxAttempts: 1,
        jobs: [
          { name: 'a', label: 'x', command: 'true', parents: ['b'], memoryMb: 0, cores: 0 },
          { name: 'b', label: 'x', command: 'true', parents: ['a'], memoryMb: 0, cores: 0 },
        ],
      }),
    );
    const channel = openChannel(stack.addresses.iddsAddr);
    const idds = createGrpcClient(WorkflowServiceDefinition, channel);
    const before = await idds.listWorkflows({ user: '', state: '', limit: 1000 });
    // when it is submitted
    const res = await runPanda(cli, ['submit', file]);
    // then the CLI exits 2 with the server's message naming the job, and nothing was stored
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/dependency cycle/);
    expect(res.stderr).toMatch(/jobs\[\d\] \((a|b)\)/);
    const after = await idds.listWorkflows({ user: '', state: '', limit: 1000 });
    channel.close();
    expect(after.workflows.map((w) => w.workflowId)).toEqual(before.workflows.map((w) => w.workflowId));
    expect(after.workflows.some((w) => w.name === 'cyclic')).toBe(false);
  });
});
