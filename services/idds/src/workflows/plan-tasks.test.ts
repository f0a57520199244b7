import type { JobSpec } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { planTasks } from './plan-tasks.js';

const job = (name: string, label: string): JobSpec => ({
  name,
  label,
  command: 'true',
  parents: [],
  memoryMb: 0,
  cores: 0,
});

describe('planTasks', () => {
  it('makes one task per label in order of appearance', () => {
    const tasks = planTasks('wf', [job('a', 'init'), job('b', 'isr'), job('c', 'isr')], 100);
    expect(tasks.map((t) => [t.name, t.jobs.length])).toEqual([
      ['wf_01_init_01', 1],
      ['wf_02_isr_01', 2],
    ]);
  });
  it('chunks a big label into near-equal parts', () => {
    const jobs = Array.from({ length: 25 }, (_, i) => job(`j${i}`, 'isr'));
    const tasks = planTasks('wf', jobs, 10);
    expect(tasks.map((t) => t.jobs.length)).toEqual([9, 9, 7]);
    expect(tasks.map((t) => t.chunk)).toEqual([1, 2, 3]);
    expect(tasks.flatMap((t) => t.jobs)).toHaveLength(25);
  });
});
