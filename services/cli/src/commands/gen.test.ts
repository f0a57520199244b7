import { describe, expect, it } from 'vitest';
import { parseWorkflowFile } from '../workflow-file/parse.js';
import { stringify } from 'yaml';
import { generateWorkflow } from './gen.js';

const opts = { name: 'g', queue: 'Q', labels: ['isr', 'calib'], failEvery: 0, sleepS: 0, maxAttempts: 2 };

describe('panda gen', () => {
  it('makes n jobs: one root, then chains through the labels, parents always defined first', () => {
    const spec = generateWorkflow(7, opts) as { jobs: { name: string; label: string; parents?: string[] }[] };
    expect(spec.jobs).toHaveLength(7);
    expect(spec.jobs.map((j) => j.label)).toEqual([
      'pipetaskInit',
      'isr',
      'isr',
      'isr',
      'calib',
      'calib',
      'calib',
    ]);
    expect(spec.jobs[4]?.parents).toEqual(['isr_0']);
    const names = new Set<string>();
    for (const j of spec.jobs) {
      for (const p of j.parents ?? []) expect(names.has(p)).toBe(true);
      expect(names.has(j.name)).toBe(false);
      names.add(j.name);
    }
  });

  it('is a valid workflow file, with every k-th job failing', () => {
    const spec = generateWorkflow(10, { ...opts, failEvery: 3 });
    const parsed = parseWorkflowFile(stringify(spec), 'gen.yaml');
    expect(parsed.jobs.filter((j) => j.command.includes('exit 3'))).toHaveLength(3);
  });
});
