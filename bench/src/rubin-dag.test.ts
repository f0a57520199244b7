import type { JobSpec } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { parentsOf, planRubinDag, rubinChunks } from './rubin-dag.js';
import { percentile } from './stats.js';

async function jobsOf(
  nodes: number,
  batch = 5000,
): Promise<{ jobs: JobSpec[]; sizes: number[]; headers: number }> {
  const jobs: JobSpec[] = [];
  const sizes: number[] = [];
  let headers = 0;
  for await (const c of rubinChunks(planRubinDag(nodes), 'Q', batch)) {
    if (c.header) headers++;
    else sizes.push(c.jobs.length);
    jobs.push(...c.jobs);
  }
  return { jobs, sizes, headers };
}

describe('the bench Rubin DAG', () => {
  it('has exactly the nodes asked for, with the final job', async () => {
    for (const n of [7, 11, 12, 30, 31, 32, 33, 1000, 10_000, 12_345, 100_000]) {
      const { jobs, headers } = await jobsOf(n);
      expect(jobs.length + 1, `${n} nodes`).toBe(n);
      expect(headers).toBe(1);
    }
    // 2 + visits + 4 x detectors with at least one detector per visit: not every small n fits
    expect(() => planRubinDag(6)).toThrow();
    expect(() => planRubinDag(8)).toThrow(/cannot shape 8 nodes/);
  });

  it('spreads detectors evenly, at most 189 per visit', () => {
    const { detectorsPerVisit } = planRubinDag(100_000);
    expect(Math.max(...detectorsPerVisit)).toBeLessThanOrEqual(189);
    expect(Math.max(...detectorsPerVisit) - Math.min(...detectorsPerVisit)).toBeLessThanOrEqual(1);
    // the fewest visits (133) raised until the rest splits into whole detectors
    expect(detectorsPerVisit.length).toBe(134);
  });

  it('sends parents first, in batches, and parentsOf knows every edge', async () => {
    const dag = planRubinDag(2000);
    const { jobs, sizes } = await jobsOf(2000, 300);
    expect(Math.max(...sizes)).toBe(300);
    const seen = new Set<string>();
    for (const j of jobs) {
      expect(parentsOf(dag, j.name)).toEqual(j.parents);
      for (const p of j.parents) expect(seen.has(p)).toBe(true);
      seen.add(j.name);
    }
    const transforms = jobs.filter((j) => j.label === 'transformPreSourceTable').map((j) => j.name);
    expect(parentsOf(dag, dag.finalJobName)).toEqual(transforms);
    expect(jobs.filter((j) => j.label === 'isr')).toHaveLength(dag.detectorsPerVisit.reduce((a, b) => a + b));
    expect(() => parentsOf(dag, 'other_1_2')).toThrow();
  });

  it('percentile is nearest rank', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
    expect(percentile([], 50)).toBeNaN();
  });
});
