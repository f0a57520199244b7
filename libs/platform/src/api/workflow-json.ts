import type { ReportRow, Workflow, WorkflowCounts } from '@panda/proto';

/**
 * How the CLI (`--json`) and the monitor (JSON pages) show idds's workflows and reports: one
 * shape for both.
 */

/** Counts of a workflow idds has not counted yet. */
const ZERO_WORKFLOW_COUNTS: Readonly<WorkflowCounts> = {
  total: 0,
  released: 0,
  unreleased: 0,
  processing: 0,
  finished: 0,
  failed: 0,
  pruned: 0,
  remaining: 0,
};

/** The workflow's counts, zeros where idds sent none. */
export const workflowCounts = (w: Workflow): WorkflowCounts => ({ ...ZERO_WORKFLOW_COUNTS, ...w.counts });

/** The JSON shape of a workflow: ts-proto's camelCase fields, dates as ISO strings. */
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
    counts: workflowCounts(w),
    createdAt: w.createdAt ? w.createdAt.toISOString() : null,
    updatedAt: w.updatedAt ? w.updatedAt.toISOString() : null,
  };
}

/** The count columns of a workflow report, in `bps report` order: the WmsStates names plus EXPECTED. */
export const REPORT_COLUMNS = [
  ['UNKNOWN', 'unknown'],
  ['MISFIT', 'misfit'],
  ['UNREADY', 'unready'],
  ['READY', 'ready'],
  ['PENDING', 'pending'],
  ['RUNNING', 'running'],
  ['DELETED', 'deleted'],
  ['HELD', 'held'],
  ['SUCCEEDED', 'succeeded'],
  ['FAILED', 'failed'],
  ['PRUNED', 'pruned'],
  ['EXPECTED', 'expected'],
] as const satisfies readonly (readonly [string, keyof Omit<ReportRow, 'label'>])[];
