import { describe, expect, it } from 'vitest';
import { buildReport } from './report.js';

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
});
