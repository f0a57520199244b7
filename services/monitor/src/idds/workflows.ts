import type { Workflow, WorkflowCounts, WorkflowServiceClient } from '@panda/proto';

/** The read side of idds's WorkflowService the monitor uses (tests pass an in-memory fake). */
export type WorkflowReader = Pick<WorkflowServiceClient, 'getWorkflow' | 'listWorkflows' | 'getReport'>;

/** The idds client and its address, which error pages name. */
export interface IddsBackend {
  client: WorkflowReader;
  address: string;
}

export const ZERO_COUNTS: WorkflowCounts = {
  total: 0,
  released: 0,
  unreleased: 0,
  processing: 0,
  finished: 0,
  failed: 0,
  pruned: 0,
  remaining: 0,
};

export const countsOf = (w: Workflow): WorkflowCounts => ({ ...ZERO_COUNTS, ...w.counts });

/** JSON shape of a workflow: ts-proto's camelCase fields, dates as ISO strings. */
export interface WorkflowJson {
  workflowId: number;
  name: string;
  user: string;
  campaign: string;
  queue: string;
  state: string;
  counts: WorkflowCounts;
  createdAt: string | null;
  updatedAt: string | null;
}

export function workflowToJson(w: Workflow): WorkflowJson {
  return {
    workflowId: w.workflowId,
    name: w.name,
    user: w.user,
    campaign: w.campaign,
    queue: w.queue,
    state: w.state,
    counts: countsOf(w),
    createdAt: w.createdAt ? w.createdAt.toISOString() : null,
    updatedAt: w.updatedAt ? w.updatedAt.toISOString() : null,
  };
}
