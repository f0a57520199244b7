import type { Workflow } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { formatProgress, formatStatus, isTerminal } from './workflow.js';

const workflow: Workflow = {
  workflowId: 7,
  name: 'wf',
  user: 'bob',
  campaign: 'c1',
  queue: 'LOCAL',
  state: 'Transforming',
  counts: {
    total: 10,
    released: 4,
    unreleased: 6,
    processing: 2,
    finished: 3,
    failed: 1,
    pruned: 0,
    remaining: 6,
  },
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
  updatedAt: undefined,
};

describe('workflow formatting', () => {
  it('knows the terminal states', () => {
    expect(['Finished', 'SubFinished', 'Failed', 'Cancelled'].every(isTerminal)).toBe(true);
    expect(isTerminal('Transforming')).toBe(false);
  });

  it('formats a progress line', () => {
    expect(formatProgress(workflow)).toBe(
      'workflow 7 Transforming: 3 finished, 1 failed, 0 pruned, 6 remaining of 10',
    );
  });

  it('formats status lines', () => {
    const text = formatStatus(workflow);
    expect(text).toContain('workflow  7');
    expect(text).toContain('state     Transforming');
    expect(text).toContain('campaign  c1');
    expect(text).toContain('10 total: 4 released, 6 unreleased, 2 processing, 3 finished, 1 failed');
    expect(text).toContain('created   2026-01-02T03:04:05.000Z');
  });
});
