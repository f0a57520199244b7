import { describe, expect, it } from 'vitest';
import { buildReport, withOpenedGates } from './report.js';

describe('buildReport', () => {
  it('splits released nodes into READY, PENDING, RUNNING, HELD by their current job', () => {
    const { rows, total } = buildReport(
      ['pipetaskInit', 'isr'],
      [
        { label: 'pipetaskInit', state: 'finished', count: 1 },
        { label: 'isr', state: 'released', count: 5 },
        { label: 'isr', state: 'unreleased', count: 2 },
        { label: 'isr', state: 'failed', count: 1 },
        { label: 'isr', state: 'pruned', count: 3 },
      ],
      [
        { label: 'isr', state: 'sent', count: 1 },
        { label: 'isr', state: 'running', count: 2 },
        { label: 'isr', state: 'failed', count: 4 },
        { label: 'isr', state: 'activated', count: 2 },
      ],
    );
    expect(rows[0]).toMatchObject({ label: 'pipetaskInit', succeeded: 1, expected: 1 });
    expect(rows[1]).toMatchObject({
      label: 'isr',
      unready: 2,
      ready: 2,
      pending: 1,
      running: 2,
      failed: 1,
      pruned: 3,
      expected: 11,
    });
    expect(total).toMatchObject({ label: 'TOTAL', succeeded: 1, expected: 12, ready: 2 });
  });
  it('never shows negative READY when job counts run ahead of node counts', () => {
    const { rows } = buildReport(
      ['a'],
      [{ label: 'a', state: 'released', count: 1 }],
      [{ label: 'a', state: 'running', count: 2 }],
    );
    expect(rows[0]!.ready).toBe(0);
  });
  it('counts staged nodes UNREADY until their gate finished, then by their job', () => {
    // given 10 staged isr nodes, 6 of them behind a gate that finished (jobs activated or running)
    const nodes = withOpenedGates(
      [
        { label: 'isr', state: 'staged', count: 10 },
        { label: 'isr', state: 'finished', count: 2 },
      ],
      [{ label: 'isr', count: 6 }],
    );
    expect(nodes).toEqual([
      { label: 'isr', state: 'staged', count: 4 },
      { label: 'isr', state: 'released', count: 6 },
      { label: 'isr', state: 'finished', count: 2 },
    ]);
    // when the report is built, the 4 waiting ones (jobs `defined`) are UNREADY
    const { rows } = buildReport(['isr'], nodes, [
      { label: 'isr', state: 'defined', count: 4 },
      { label: 'isr', state: 'activated', count: 5 },
      { label: 'isr', state: 'running', count: 1 },
    ]);
    expect(rows[0]).toMatchObject({ unready: 4, ready: 5, running: 1, succeeded: 2, expected: 12 });
  });
});
