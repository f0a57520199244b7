import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../errors/cli-error.js';
import { parseWorkflowFile, readWorkflowFile } from './parse.js';

const good = `
name: two-step
campaign: quick
user: alice
queue: LOCAL
maxAttempts: 3
jobs:
  - name: init
    label: pipetaskInit
    command: echo init
  - name: calib
    label: calibrate
    command: echo calib
    parents: [init]
    memoryMb: 2048
    cores: 2
`;

function expectUsage(fn: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CliError);
  expect((caught as CliError).exitCode).toBe(ExitCode.Usage);
  for (const f of fragments) expect((caught as CliError).message).toContain(f);
}

describe('parseWorkflowFile', () => {
  it('maps a YAML file to a WorkflowSpec, filling missing numbers with 0', () => {
    const spec = parseWorkflowFile(good, 'wf.yaml');
    expect(spec).toEqual({
      name: 'two-step',
      campaign: 'quick',
      user: 'alice',
      queue: 'LOCAL',
      maxAttempts: 3,
      site: '',
      memoryMultiplier: 0,
      memoryMaxMb: 0,
      maxJobsPerTask: 0,
      priority: 0,
      labels: {},
      finalJob: undefined,
      jobs: [
        { name: 'init', label: 'pipetaskInit', command: 'echo init', parents: [], memoryMb: 0, cores: 0 },
        {
          name: 'calib',
          label: 'calibrate',
          command: 'echo calib',
          parents: ['init'],
          memoryMb: 2048,
          cores: 2,
        },
      ],
    });
  });

  it('reads JSON too, with missing optional fields defaulted', () => {
    const json = JSON.stringify({ name: 'j', jobs: [{ name: 'a', command: 'true' }] });
    expect(parseWorkflowFile(json, 'wf.json')).toEqual({
      name: 'j',
      campaign: '',
      user: '',
      queue: '',
      maxAttempts: 0,
      site: '',
      memoryMultiplier: 0,
      memoryMaxMb: 0,
      maxJobsPerTask: 0,
      priority: 0,
      labels: {},
      finalJob: undefined,
      jobs: [{ name: 'a', label: '', command: 'true', parents: [], memoryMb: 0, cores: 0 }],
    });
  });

  it('refuses an unknown key in a job, naming the key and the job', () => {
    const bad = good.replace('    cores: 2', '    cores: 2\n    memory: 4000');
    expectUsage(
      () => parseWorkflowFile(bad, 'wf.yaml'),
      'wf.yaml',
      'jobs[1] (job "calib")',
      'unknown key "memory"',
    );
  });

  it('refuses an unknown top-level key', () => {
    expectUsage(
      () => parseWorkflowFile(`${good}\npriorty: 5\n`, 'wf.yaml'),
      'workflow: unknown key "priorty"',
    );
  });

  it('refuses bad YAML with the parser message', () => {
    expectUsage(
      () => parseWorkflowFile('name: x\njobs: [\n  - {name: a', 'broken.yaml'),
      'broken.yaml',
      'not valid YAML',
    );
  });

  it('refuses wrong types and missing fields, naming the field', () => {
    const bad = good.replace('cores: 2', 'cores: two');
    expectUsage(() => parseWorkflowFile(bad, 'wf.yaml'), 'jobs[1] (job "calib").cores');
    expectUsage(
      () => parseWorkflowFile('name: x\njobs: [{name: a}]', 'wf.yaml'),
      'jobs[0] (job "a").command',
    );
    expectUsage(() => parseWorkflowFile('name: x\njobs: []', 'wf.yaml'), 'workflow.jobs');
  });

  it('refuses a document that is not a mapping', () => {
    expectUsage(() => parseWorkflowFile('- a\n- b\n', 'wf.yaml'), 'expected a mapping');
  });
});

describe('readWorkflowFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'panda-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file from disk', async () => {
    const path = join(dir, 'wf.yaml');
    await writeFile(path, good);
    await expect(readWorkflowFile(path)).resolves.toMatchObject({ name: 'two-step' });
  });

  it('reports a missing file as a usage error', async () => {
    await expect(readWorkflowFile(join(dir, 'nope.yaml'))).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringContaining('no such file') as unknown,
    });
  });
});
