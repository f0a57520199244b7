import { Workflow } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import { workflowCounts, workflowToJson } from './workflow-json.js';

const counts = {
  total: 10,
  released: 4,
  unreleased: 6,
  processing: 2,
  finished: 3,
  failed: 1,
  pruned: 0,
  remaining: 6,
};
const workflow = Workflow.fromPartial({
  workflowId: 7,
  name: 'wf',
  user: 'bob',
  campaign: 'c1',
  queue: 'LOCAL',
  state: 'Transforming',
  counts,
  createdAt: new Date('2026-01-02T03:04:05.000Z'),
});

describe('workflow JSON', () => {
  it('turns a workflow into camelCase JSON with ISO dates and filled counts', () => {
    expect(workflowToJson(workflow)).toEqual({
      workflowId: 7,
      name: 'wf',
      user: 'bob',
      campaign: 'c1',
      queue: 'LOCAL',
      state: 'Transforming',
      counts,
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: null,
    });
    expect(workflowToJson({ ...workflow, counts: undefined }).counts.total).toBe(0);
  });

  it('counts zero of everything idds did not count', () => {
    const zeros = workflowCounts({ ...workflow, counts: undefined });
    expect(Object.keys(zeros).sort()).toEqual(Object.keys(counts).sort());
    expect(Object.values(zeros).every((n) => n === 0)).toBe(true);
    expect(workflowCounts(workflow)).toEqual(counts);
  });
});
