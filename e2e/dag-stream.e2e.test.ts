import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import { WorkflowServiceDefinition } from '@panda/proto';
import type { WorkflowReport } from '@panda/proto';
import { repoRootDir, runPanda, startStack, waitForWorkflow } from '@panda/testkit';
import type { PandaCli, Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-dag-stream-');
const MAX_ATTEMPTS = 2;

interface FileJob {
  name: string;
  label: string;
  command: string;
  parents: string[];
}

/** A generated NDJSON workflow: its header line and its jobs, as written. */
function readNdjson(path: string): { header: Record<string, unknown>; jobs: FileJob[] } {
  const [first, ...rest] = readFileSync(path, 'utf8').trimEnd().split('\n');
  return {
    header: JSON.parse(first!) as Record<string, unknown>,
    jobs: rest.map((l) => JSON.parse(l) as FileJob),
  };
}

type Outcome = 'finished' | 'failed' | 'pruned';

/**
 * What should happen to each job, computed from the file alone: a job whose payload exits
 * non-zero when run here fails (on every attempt: the failures are deterministic); a job
 * with a failed or pruned ancestor is pruned and never runs. Jobs come parents first.
 */
function expectedOutcomes(jobs: FileJob[]): Map<string, Outcome> {
  const outcome = new Map<string, Outcome>();
  for (const j of jobs) {
    if (j.parents.some((p) => outcome.get(p) !== 'finished')) {
      outcome.set(j.name, 'pruned');
      continue;
    }
    const run = spawnSync('bash', ['-c', j.command], { encoding: 'utf8' });
    outcome.set(j.name, run.status === 0 ? 'finished' : 'failed');
  }
  return outcome;
}

describe('a big workflow streamed from an NDJSON file', () => {
  let stack: Stack;
  let cli: PandaCli;
  let channel: ReturnType<typeof openChannel>;
  let idds: ReturnType<typeof createGrpcClient<typeof WorkflowServiceDefinition>>;
  const gen = async (file: string, ...args: string[]) => {
    const r = await runPanda(cli, ['gen', 'rubin', '--format', 'ndjson', '-o', file, ...args]);
    expect(r.code, r.stderr).toBe(0);
  };
  const storedNames = async () =>
    (await idds.listWorkflows({ user: '', state: '', limit: 1000 })).workflows.map((w) => w.name);

  beforeAll(async () => {
    stack = await startStack({ dir, cycleMs: 500 });
    cli = { repoRoot: root, env: stack.cliEnv };
    channel = openChannel(stack.addresses.iddsAddr);
    idds = createGrpcClient(WorkflowServiceDefinition, channel);
  });
  afterAll(async () => {
    channel?.close();
    await stack?.stop();
  });

  it('runs a generated Rubin step-1 DAG with failures to the end, as computed from the file', async () => {
    // given a generated workflow of 3 visits x 25 detectors (304 jobs and a final job), 4% failing
    const file = join(dir, 'step1.ndjson');
    await gen(
      file,
      ...['--visits', '3', '--detectors', '25', '--fail-rate', '0.04', '--seed', '5'],
      ...['--max-attempts', String(MAX_ATTEMPTS)],
    );
    const { header, jobs } = readNdjson(file);
    expect(jobs).toHaveLength(304);
    const outcome = expectedOutcomes(jobs);
    const count = (o: Outcome, label?: string) =>
      jobs.filter((j) => outcome.get(j.name) === o && (!label || j.label === label)).length;
    expect(count('failed')).toBeGreaterThan(0);
    expect(count('pruned')).toBeGreaterThan(0);

    // when it is submitted with the CLI (streamed in batches) and runs with real pilots
    const submitted = await runPanda(cli, ['submit', file, '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = Number((JSON.parse(submitted.stdout) as { workflowId: number }).workflowId);
    const final = await waitForWorkflow(cli, id, { timeoutMs: 240_000 });

    // then it ends SubFinished with the expected counts; the final job (ALWAYS) ran anyway
    expect(final.state).toBe('SubFinished');
    expect(final.counts).toEqual({
      total: jobs.length + 1,
      released: expect.any(Number) as unknown,
      unreleased: 0,
      processing: 0,
      finished: count('finished') + 1,
      failed: count('failed'),
      pruned: count('pruned'),
      remaining: 0,
    });
    expect(final.name).toBe(header.name);

    // and the report has, per label, the expected succeeded, failed and pruned jobs
    const report = await runPanda(cli, ['report', String(id), '--json']);
    expect(report.code, report.stderr).toBe(0);
    const { rows, total } = JSON.parse(report.stdout) as WorkflowReport;
    const labels = [...new Set(jobs.map((j) => j.label))];
    expect(rows.map((r) => [r.label, r.succeeded, r.failed, r.pruned, r.expected])).toEqual([
      ...labels.map((l) => [
        l,
        count('finished', l),
        count('failed', l),
        count('pruned', l),
        jobs.filter((j) => j.label === l).length,
      ]),
      ['finalJob', 1, 0, 0, 1],
    ]);
    expect(total).toMatchObject({
      succeeded: count('finished') + 1,
      failed: count('failed'),
      pruned: count('pruned'),
    });
    // and every attempt of a failing job exited 1 (deterministic failures: retried, then final)
    const { exitCodes } = await idds.getReport({ workflowId: id });
    expect(exitCodes).toEqual(
      labels
        .filter((l) => count('failed', l) > 0)
        .map((l) => ({ label: l, exitCode: 1, count: count('failed', l) * MAX_ATTEMPTS })),
    );
  }, 300_000);

  it('refuses a file with a child before its parent: exit 2 naming the job, nothing stored', async () => {
    // given a generated workflow whose second and third jobs are swapped
    const file = join(dir, 'order.ndjson');
    await gen(file, '--visits', '1', '--detectors', '2', '--name', 'swapped');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    writeFileSync(file, `${lines.join('\n')}\n`);
    // when it is submitted
    const r = await runPanda(cli, ['submit', file]);
    // then idds refuses it, naming the job, and stores nothing
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "jobs[1] (characterizeImage_2025061500101_0): parent 'isr_2025061500101_0' comes after it",
    );
    expect(await storedNames()).not.toContain('swapped');
  });

  it('refuses a bad line found after the first batch went out: exit 2 naming the line, nothing stored', async () => {
    // given 8 visits x 189 detectors (6057 jobs) with an invalid job on line 5502
    const file = join(dir, 'bad.ndjson');
    await gen(file, '--visits', '8', '--detectors', '189', '--name', 'bad-line');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    lines.splice(5501, 0, JSON.stringify({ name: 'oops', label: 'isr', command: 'true', memory: 2 }));
    writeFileSync(file, `${lines.join('\n')}\n`);
    // when it is submitted: 5000 jobs are streamed before the bad line is read
    const r = await runPanda(cli, ['submit', file]);
    // then the CLI names the line and the job, exits 2, and idds kept nothing of the first batch
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:5502: invalid job:`);
    expect(r.stderr).toContain('jobs[5500] (job "oops"): unknown key "memory"');
    expect(await storedNames()).not.toContain('bad-line');
  });
});
