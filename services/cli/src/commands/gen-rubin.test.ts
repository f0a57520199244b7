import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../errors/cli-error.js';
import { runCli } from '../program.js';
import { openNdjsonWorkflow } from '../workflow-file/ndjson.js';
import { parseWorkflowFile } from '../workflow-file/parse.js';
import type { CommandContext } from './context.js';
import { FIRST_VISIT, RUBIN_LABELS, rubinJobCount, rubinJobs, rubinOptionsOf } from './gen-rubin.js';
import type { RubinJob, RubinOptions } from './gen-rubin.js';

const base: RubinOptions = {
  visits: 3,
  detectors: 4,
  failRate: 0,
  seed: 1,
  sleepS: 0,
  name: 'w',
  queue: 'SLAC_Rubin',
  maxAttempts: 0,
};
const all = (o: Partial<RubinOptions> = {}): RubinJob[] => [...rubinJobs({ ...base, ...o })];
const failing = (jobs: RubinJob[]) => jobs.filter((j) => j.command.endsWith('exit 1')).map((j) => j.name);
const bash = (command: string) => spawnSync('bash', ['-c', command], { encoding: 'utf8' });

function harness() {
  const out: string[] = [];
  const err: string[] = [];
  const unused = () => {
    throw new Error('gen calls no service');
  };
  const ctx: CommandContext = {
    services: { idds: unused, jobs: unused, queues: unused, tasks: unused, workers: unused },
    output: { out: (l) => out.push(l), err: (l) => err.push(l) },
    signal: new AbortController().signal,
    sleep: () => Promise.resolve(),
    pollIntervalMs: 0,
  };
  return { out, err, run: (...args: string[]) => runCli(args, ctx) };
}

describe('gen rubin: shape', () => {
  it('makes pipetaskInit, 4 jobs per visit x detector and one transformPreSourceTable per visit', () => {
    const jobs = all();
    expect(jobs).toHaveLength(rubinJobCount(3, 4));
    const perLabel = Object.fromEntries(
      RUBIN_LABELS.map((l) => [l, jobs.filter((j) => j.label === l).length]),
    );
    expect(perLabel).toEqual({
      pipetaskInit: 1,
      isr: 12,
      characterizeImage: 12,
      calibrate: 12,
      writePreSourceTable: 12,
      transformPreSourceTable: 3,
    });
  });

  it('chains each detector through the steps and joins a visit in transformPreSourceTable', () => {
    const byName = new Map(all().map((j) => [j.name, j]));
    const v = FIRST_VISIT + 1;
    expect(byName.get(`isr_${v}_2`)?.parents).toEqual(['pipetaskInit']);
    expect(byName.get(`characterizeImage_${v}_2`)?.parents).toEqual([`isr_${v}_2`]);
    expect(byName.get(`calibrate_${v}_2`)?.parents).toEqual([`characterizeImage_${v}_2`]);
    expect(byName.get(`writePreSourceTable_${v}_2`)?.parents).toEqual([`calibrate_${v}_2`]);
    expect(byName.get(`transformPreSourceTable_${v}`)?.parents).toEqual(
      [0, 1, 2, 3].map((d) => `writePreSourceTable_${v}_${d}`),
    );
    expect(byName.get('pipetaskInit')?.parents).toEqual([]);
  });

  it('lists every job after all its parents, with unique names', () => {
    const seen = new Set<string>();
    for (const j of all({ visits: 5, detectors: 7 })) {
      for (const p of j.parents) expect(seen.has(p), `${j.name} after ${p}`).toBe(true);
      expect(seen.has(j.name)).toBe(false);
      seen.add(j.name);
    }
  });
});

describe('gen rubin: failures', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = all({ visits: 4, detectors: 20, failRate: 0.1, seed: 7 });
    expect(all({ visits: 4, detectors: 20, failRate: 0.1, seed: 7 })).toEqual(a);
    expect(failing(a).length).toBeGreaterThan(0);
    expect(failing(all({ visits: 4, detectors: 20, failRate: 0.1, seed: 8 }))).not.toEqual(failing(a));
  });

  it('keeps a job failing when the workflow grows (decided per job name)', () => {
    const small = failing(all({ visits: 2, detectors: 10, failRate: 0.2, seed: 3 }));
    const big = new Set(failing(all({ visits: 5, detectors: 30, failRate: 0.2, seed: 3 })));
    expect(small.length).toBeGreaterThan(0);
    for (const name of small) expect(big.has(name)).toBe(true);
  });

  it('roughly respects the fail rate, and never fails pipetaskInit', () => {
    for (const rate of [0, 0.05, 0.3]) {
      const jobs = all({ visits: 20, detectors: 50, failRate: rate, seed: 11 });
      const quanta = jobs.filter((j) => j.label !== 'pipetaskInit');
      const share = failing(quanta).length / quanta.length;
      expect(share).toBeGreaterThanOrEqual(rate * 0.8);
      expect(share).toBeLessThanOrEqual(rate * 1.2);
    }
    expect(failing(all({ failRate: 1 }))).not.toContain('pipetaskInit');
    expect(failing(all({ failRate: 1 }))).toHaveLength(rubinJobCount(3, 4) - 1);
  });

  it('payloads are real shell: success prints the log and exits 0, failure prints the error and exits 1', () => {
    const jobs = all({ visits: 1, detectors: 3, failRate: 0.5, seed: 2 });
    const bad = jobs.find((j) => j.label === 'calibrate' && j.command.endsWith('exit 1'));
    const good = jobs.find((j) => j.label === 'calibrate' && !j.command.endsWith('exit 1'));
    expect(bad && good).toBeTruthy();
    const ok = bash(good!.command);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/lsst\.calibrate\.photoCal .*Magnitude zero point/);
    expect(ok.stdout).toContain(`Execution of task 'calibrate' on quantum {instrument: 'LSSTCam', visit:`);
    expect(ok.stderr).toBe('');
    const ko = bash(bad!.command);
    expect(ko.status).toBe(1);
    expect(ko.stderr.trim().split('\n')).toHaveLength(1);
    expect(ko.stderr).toContain(
      "Unable to measure aperture correction for required algorithm 'modelFit_CModel': only 0 sources, but require at least 2.",
    );
  });

  it('sleeps only when asked', () => {
    expect(all()[0]!.command).not.toContain('sleep');
    expect(all({ sleepS: 0.2 })[0]!.command).toContain('; sleep 0.2; ');
  });
});

describe('panda gen rubin', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'panda-gen-rubin-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes YAML that parses as a workflow with label defaults and an ALWAYS final job', async () => {
    const h = harness();
    const code = await h.run(
      'gen',
      'rubin',
      '--visits',
      '2',
      '--detectors',
      '3',
      '--queue',
      'Q',
      '--max-attempts',
      '2',
    );
    expect(code).toBe(ExitCode.Ok);
    const spec = parseWorkflowFile(h.out.join('\n'), 'gen.yaml');
    expect(spec).toMatchObject({ name: 'rubin-step1-2x3', queue: 'Q', maxAttempts: 2 });
    expect(spec.jobs).toHaveLength(rubinJobCount(2, 3));
    expect(spec.finalJob).toMatchObject({ whenRun: 'ALWAYS' });
    expect(bash(spec.finalJob!.command).stdout).toContain('butler aggregate-graph');
    expect(spec.labels.calibrate).toMatchObject({ memoryMb: 4000, cores: 1 });
  });

  it('writes NDJSON, header first, then the jobs in topological order', async () => {
    const file = join(dir, 'w.ndjson');
    const h = harness();
    const args = ['gen', 'rubin', '--visits', '2', '--detectors', '3', '--fail-rate', '0.5', '--seed', '4'];
    expect(await h.run(...args, '-o', file)).toBe(ExitCode.Ok);
    expect(h.err.join('\n')).toMatch(/wrote 27 jobs and a final job \(2 visits x 3 detectors, \d+ failing\)/);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 27);
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('jobs');
    const wf = await openNdjsonWorkflow(file);
    const jobs = [];
    for await (const batch of wf.batches()) jobs.push(...batch);
    expect(jobs.map((j) => j.name)).toEqual(
      all({ visits: 2, detectors: 3, failRate: 0.5, seed: 4 }).map((j) => j.name),
    );
    expect(wf.header.finalJob?.whenRun).toBe('ALWAYS');
  });

  it('refuses bad options with exit 2', async () => {
    for (const bad of [
      ['--visits', '0', '--detectors', '3'],
      ['--visits', '2', '--detectors', 'x'],
      ['--visits', '2', '--detectors', '3', '--fail-rate', '1.5'],
      ['--visits', '2', '--detectors', '3', '--format', 'xml'],
      ['--visits', '2', '--detectors', '3', '--name', 'a b$'],
    ]) {
      const h = harness();
      expect(await h.run('gen', 'rubin', ...bad), bad.join(' ')).toBe(ExitCode.Usage);
      expect(h.err.join('\n')).toContain('gen rubin:');
    }
    expect(() => rubinOptionsOf({ visits: '2000', detectors: '189' })).toThrow(CliError);
    expect(rubinOptionsOf({ visits: '2000', detectors: '189', format: 'ndjson' }).format).toBe('ndjson');
  });

  it('leaves `gen <n>` as it was', async () => {
    const h = harness();
    expect(await h.run('gen', '3', '--queue', 'Q')).toBe(ExitCode.Ok);
    expect(parseWorkflowFile(h.out.join('\n'), 'g.yaml').jobs).toHaveLength(3);
  });
});
