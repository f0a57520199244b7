import { describe, expect, it } from 'vitest';
import { DEFAULT_SLURM_TEMPLATE, parseBatchId, renderSlurmScript, TemplateError } from './script.js';
import { isSlurmOom, parseScontrolJob, slurmMemoryKill, slurmWorkerState } from './states.js';

describe('Slurm state mapping (reference §3)', () => {
  it.each([
    ['PENDING', 'submitted'],
    ['CONFIGURING', 'submitted'],
    ['RUNNING', 'running'],
    ['COMPLETING', 'running'],
    ['COMPLETED', 'finished'],
    ['TIMEOUT', 'finished'],
    ['CANCELLED', 'cancelled'],
    ['CANCELLED+', 'cancelled'],
    ['OUT_OF_MEMORY', 'failed'],
    ['FAILED', 'failed'],
    ['NODE_FAIL', 'failed'],
  ])('%s -> %s', (slurm, worker) => expect(slurmWorkerState(slurm)).toBe(worker));

  it("recognises an out-of-memory end by state or by slurmstepd's message", () => {
    expect(isSlurmOom('OUT_OF_MEMORY', '')).toBe(true);
    expect(isSlurmOom('FAILED', 'slurmstepd-vm: error: Exceeded job memory limit')).toBe(true);
    expect(isSlurmOom('FAILED', 'exit 3')).toBe(false);
    expect(isSlurmOom('RUNNING', 'slurmstepd: error: Exceeded job memory limit')).toBe(false);
  });

  it("counts only slurmstepd's lines, and only on an unsuccessful end", () => {
    // as Slurm 22.05 writes them with OverMemoryKill (the job then is FAILED, ExitCode 0:9)
    const killed = [
      '{"level":30,"msg":"running payload"}',
      'slurmstepd-vm: error: StepId=2.batch exceeded memory limit (480448512 > 314572800), being killed',
      'slurmstepd-vm: error: *** JOB 2 ON vm CANCELLED AT 2026-11-28T02:07:27 ***',
      'slurmstepd-vm: error: Exceeded job memory limit',
    ].join('\n');
    expect(isSlurmOom('FAILED', killed)).toBe(true);
    expect(isSlurmOom('CANCELLED', killed)).toBe(true);
    expect(isSlurmOom('COMPLETED', killed)).toBe(false);
    expect(isSlurmOom('FAILED', 'slurmstepd: error: Detected 1 oom_kill event in StepId=7.batch')).toBe(true);
    // the pilot's or payload's own words are not Slurm's kill
    expect(isSlurmOom('FAILED', '{"msg":"job failed","errorDiag":"Payload ran out of memory"}')).toBe(false);
    expect(isSlurmOom('FAILED', 'python: Exceeded job memory limit')).toBe(false);
    expect(slurmMemoryKill(killed)).toEqual({ step: 'StepId=2.batch', usedMb: 458, limitMb: 300 });
    expect(slurmMemoryKill('slurmstepd: error: Exceeded job memory limit')).toBeUndefined();
  });

  it('parses scontrol and sbatch output', () => {
    expect(parseScontrolJob('JobId=7 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0')).toEqual({
      state: 'FAILED',
      exitCode: 3,
      signal: 0,
      reason: 'NonZeroExitCode',
    });
    expect(parseBatchId('Submitted batch job 42\n')).toBe('42');
    expect(parseBatchId('nothing')).toBeUndefined();
  });
});

describe('renderSlurmScript', () => {
  const values = {
    workerID: 'w1',
    pandaQueueName: 'Q',
    partition: '',
    requestRam: 4000,
    nCoreTotal: 2,
    requestWalltime: 3601,
    accessPoint: '/work/w1',
    pilotCommand: 'node pilot.js',
    env: { PANDA_PILOT_QUEUE: "it's Q" },
  };
  it('fills the template, drops empty directives and quotes the env', () => {
    const script = renderSlurmScript(DEFAULT_SLURM_TEMPLATE, values);
    expect(script).toContain('#SBATCH --mem=4000\n#SBATCH --cpus-per-task=2\n#SBATCH --time=61\n');
    expect(script).not.toContain('--partition');
    expect(script).toContain(`export PANDA_PILOT_QUEUE='it'\\''s Q'`);
    expect(renderSlurmScript(DEFAULT_SLURM_TEMPLATE, { ...values, partition: 'rubin' })).toContain(
      '#SBATCH --partition=rubin\n',
    );
  });
  it('refuses an unknown placeholder', () => {
    expect(() => renderSlurmScript('{{nope}}', values)).toThrow(TemplateError);
  });
});
