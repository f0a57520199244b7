import { describe, expect, it } from 'vitest';
import { environmentPrefix, finalJobNode, resolveJob, taskSettings } from './resolve.js';
import { workflowSpec as wf } from './specs.fixture.js';

const label = {
  memoryMb: 6000,
  cores: 2,
  walltimeS: 600,
  queue: 'SLAC_Rubin_Medium',
  site: '',
  maxAttempts: 5,
  memoryMultiplier: 2,
  memoryMaxMb: 32000,
  priority: 700,
  environment: { BUTLER: "it's/here" },
};

describe('label defaults and the final job', () => {
  it('fills a job from its label and exports the environment', () => {
    const job = resolveJob(wf({ labels: { isr: label } }), {
      name: 'a',
      label: 'isr',
      command: 'run',
      parents: [],
      memoryMb: 0,
      cores: 0,
    });
    expect(job).toMatchObject({ memoryMb: 6000, cores: 2, command: `export BUTLER='it'\\''s/here'; run` });
    expect(environmentPrefix({})).toBe('');
  });
  it('uses BPS defaults when neither job nor label says', () => {
    expect(
      resolveJob(wf(), { name: 'a', label: 'x', command: 'c', parents: [], memoryMb: 0, cores: 0 }),
    ).toMatchObject({
      memoryMb: 2048,
      cores: 1,
    });
  });
  it('takes task settings from the label, else the workflow', () => {
    expect(taskSettings(wf({ labels: { isr: label } }), 'isr', 3)).toMatchObject({
      queue: 'SLAC_Rubin_Medium',
      maxAttempts: 5,
      memoryMultiplier: 2,
    });
    expect(taskSettings(wf({ maxAttempts: 2 }), 'calibrate', 3)).toMatchObject({
      queue: 'SLAC_Rubin',
      maxAttempts: 2,
    });
  });
  it('makes no final node for NEVER', () => {
    const f = { command: 'merge', whenRun: 'NEVER', memoryMb: 0, cores: 0, queue: '', environment: {} };
    expect(finalJobNode(wf({ finalJob: f }))).toBeUndefined();
    expect(finalJobNode(wf({ finalJob: { ...f, whenRun: 'ALWAYS' } }))).toMatchObject({ label: 'finalJob' });
  });
});
