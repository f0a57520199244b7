import type { JobSpec } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { jobSpec as job, workflowSpec } from './specs.fixture.js';
import { validateWorkflow } from './validate.js';

const wf = (jobs: JobSpec[]) => workflowSpec({ queue: 'Q', jobs });

describe('validateWorkflow', () => {
  it('returns parents before children', () => {
    const order = validateWorkflow(wf([job('c_1', ['b_1']), job('b_1', ['a_1']), job('a_1')]));
    expect(order.map((j) => j.name)).toEqual(['a_1', 'b_1', 'c_1']);
  });
  it('names the job in a cycle', () => {
    expect(() =>
      validateWorkflow(wf([job('a_1', ['c_1']), job('b_1', ['a_1']), job('c_1', ['b_1'])])),
    ).toThrow(/dependency cycle: .*a_1.*/);
  });
  it('names an unknown parent', () => {
    expect(() => validateWorkflow(wf([job('a_1', ['ghost'])]))).toThrow(
      /jobs\[0\] \(a_1\): parent 'ghost' does not exist/,
    );
  });
  it('names a duplicate', () => {
    expect(() => validateWorkflow(wf([job('a_1'), job('a_1')]))).toThrow(
      /jobs\[1\] \(a_1\): duplicate job name/,
    );
  });
  it('refuses empty commands, negative memory and too many cores', () => {
    expect(() => validateWorkflow(wf([job('a_1', [], { command: ' ' })]))).toThrow(/a_1.*command is empty/);
    expect(() => validateWorkflow(wf([job('a_1', [], { memoryMb: -5 })]))).toThrow(/a_1.*memoryMb -5/);
    expect(() => validateWorkflow(wf([job('a_1', [], { cores: 1000 })]))).toThrow(/a_1.*cores 1000/);
  });
  it('refuses over-long names and empty workflows', () => {
    expect(() => validateWorkflow(wf([job('x'.repeat(4001))]))).toThrow(/longer than 4000/);
    expect(() => validateWorkflow(wf([]))).toThrow(/no jobs/);
  });
  it('handles a large chain without recursion limits', () => {
    const jobs = Array.from({ length: 50_000 }, (_, i) => job(`n_${i}`, i ? [`n_${i - 1}`] : []));
    expect(validateWorkflow(wf(jobs.reverse()))).toHaveLength(50_000);
  });
});
