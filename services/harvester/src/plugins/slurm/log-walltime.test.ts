import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger } from '@panda/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerSpec } from '../types.js';
import { parseSlurmTime, sbatchOption, scriptDirectives, slurmOutputFile } from './script.js';
import { SlurmSubmitter } from './slurm.js';

describe('sbatch options as sbatch takes them', () => {
  const script = [
    '#!/bin/bash',
    '#SBATCH --job-name=panda-w1',
    '',
    '# a comment',
    '#SBATCH -o out/%j.log   # the output',
    '#SBATCH --time 30',
    '#SBATCH --time=45',
    'cd /tmp',
    '#SBATCH --time=99',
  ].join('\n');

  it('reads #SBATCH lines up to the first command, the last one winning', () => {
    expect(scriptDirectives(script)).toEqual([
      '--job-name=panda-w1',
      '-o',
      'out/%j.log',
      '--time',
      '30',
      '--time=45',
    ]);
    expect(sbatchOption(script, [], 'time', 't')).toBe('45');
    expect(sbatchOption(script, [], 'output', 'o')).toBe('out/%j.log');
    expect(sbatchOption(script, [], 'job-name', 'J')).toBe('panda-w1');
    expect(sbatchOption(script, [], 'error', 'e')).toBeUndefined();
  });

  it('lets command-line arguments win over the script, in every form', () => {
    expect(sbatchOption(script, ['--time=2:00:00'], 'time', 't')).toBe('2:00:00');
    expect(sbatchOption(script, ['-t', '5'], 'time', 't')).toBe('5');
    expect(sbatchOption(script, ['-t7'], 'time', 't')).toBe('7');
    expect(sbatchOption(script, ['--output', '"/abs/x.out"'], 'output', 'o')).toBe('/abs/x.out');
    expect(sbatchOption(script, ['--exclusive=user'], 'time', 't')).toBe('45');
  });

  it.each([
    ['10', 600],
    ['10:30', 630],
    ['2:00:00', 7200],
    ['1-0', 86400],
    ['1-2:30', 95400],
    ['2-00:00:05', 172805],
    ['0', 0],
    ['UNLIMITED', 0],
    ['infinite', 0],
    ['soon', undefined],
    ['1:2:3:4', undefined],
  ])('time limit %s = %s s', (value, seconds) => expect(parseSlurmTime(value)).toBe(seconds));

  it('expands the output file pattern relative to the working directory', () => {
    const v = { jobId: '42', jobName: 'panda-w1', user: 'alice' };
    expect(slurmOutputFile('/work/w1', undefined, v)).toBe('/work/w1/slurm-42.out');
    expect(slurmOutputFile('/work/w1', 'logs/%x-%j.%u.log', v)).toBe('/work/w1/logs/panda-w1-42.alice.log');
    expect(slurmOutputFile('/work/w1', '/var/log/%8j_%%j_%N.out', v)).toBe('/var/log/00000042_%j_%N.out');
  });
});

describe('SlurmSubmitter: walltime and log URL of a submitted worker (fake sbatch)', () => {
  const logger = createLogger({ service: 'harvester-test', level: 'silent' });
  let dir: string;
  let plugin: SlurmSubmitter;
  const spec = (workerId: string, walltimeS: number, params: Record<string, unknown> = {}): WorkerSpec => ({
    workerId,
    queue: 'SLAC_Rubin_Slurm',
    cores: 1,
    memoryMb: 100,
    walltimeS,
    params,
  });

  beforeAll(async () => {
    // given an sbatch that records its arguments and accepts every job as job 42
    dir = await mkdtemp(join(tmpdir(), 'harvester-slurm-unit-'));
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(
      join(bin, 'sbatch'),
      `#!/bin/sh\necho "$@" > "${dir}/sbatch.args"\necho "Submitted batch job 42"\n`,
    );
    await chmod(join(bin, 'sbatch'), 0o755);
    plugin = new SlurmSubmitter({
      command: 'pilot',
      workDir: join(dir, 'work'),
      gatewayUrl: 'http://127.0.0.1:9',
      heartbeatS: 60,
      baseEnv: { PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      logger,
    });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('default template: --time in whole minutes, the log is slurm-<job id>.out in the worker folder', async () => {
    const r = await plugin.submit(spec('w-default', 90));
    expect(r.batchId).toBe('42');
    expect(r.walltimeS).toBe(120); // 90 s asked, --time=2 (minutes)
    expect(r.logUrl).toBe(pathToFileURL(join(dir, 'work', 'workers', 'w-default', 'slurm-42.out')).href);
    expect(await readFile(join(dir, 'work', 'workers', 'w-default', 'submit.sh'), 'utf8')).toContain(
      '#SBATCH --time=2\n',
    );
  });

  it("a queue's own template and sbatch arguments: their --output and --time", async () => {
    const template = [
      '#!/bin/bash',
      '#SBATCH --job-name=pq-{{workerID}}',
      '#SBATCH --output=logs/%x.%j.%u.txt',
      '#SBATCH --time={{requestWalltimeMinute}}',
      '{{pilotCommand}}',
    ].join('\n');
    const r = await plugin.submit(spec('w-own', 600, { template, sbatchArgs: ['--time=1-00:00:00'] }));
    expect(r.walltimeS).toBe(86400);
    const file = join(dir, 'work', 'workers', 'w-own', 'logs', `pq-w-own.42.${userInfo().username}.txt`);
    expect(r.logUrl).toBe(pathToFileURL(file).href);
    expect(await readFile(join(dir, 'sbatch.args'), 'utf8')).toContain('--time=1-00:00:00');
  });

  it('no --time at all: the partition default applies, recorded as 0 (unknown)', async () => {
    const template = '#!/bin/bash\n{{pilotCommand}}\n';
    const r = await plugin.submit(spec('w-notime', 600, { template }));
    expect(r.walltimeS).toBe(0);
    expect(r.logUrl).toBe(pathToFileURL(join(dir, 'work', 'workers', 'w-notime', 'slurm-42.out')).href);
  });
});
