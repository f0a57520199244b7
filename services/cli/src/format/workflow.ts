import type { Workflow, WorkflowCounts } from '@panda/proto';

/** Workflow states after which nothing changes any more. */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'Finished',
  'SubFinished',
  'Failed',
  'Cancelled',
]);

export const isTerminal = (state: string): boolean => TERMINAL_STATES.has(state);

const ZERO_COUNTS: WorkflowCounts = {
  total: 0,
  released: 0,
  unreleased: 0,
  processing: 0,
  finished: 0,
  failed: 0,
  pruned: 0,
  remaining: 0,
};

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
    counts: { ...ZERO_COUNTS, ...w.counts },
    createdAt: w.createdAt ? w.createdAt.toISOString() : null,
    updatedAt: w.updatedAt ? w.updatedAt.toISOString() : null,
  };
}

/** One line for `submit --wait`: `workflow 42 Transforming: 3 finished, 1 failed, 0 pruned, 6 remaining of 10`. */
export function formatProgress(w: Workflow): string {
  const c = { ...ZERO_COUNTS, ...w.counts };
  return (
    `workflow ${w.workflowId} ${w.state}: ${c.finished} finished, ${c.failed} failed, ` +
    `${c.pruned} pruned, ${c.remaining} remaining of ${c.total}`
  );
}

/** A few `key  value` lines for `panda status`. */
export function formatStatus(w: Workflow): string {
  const c = { ...ZERO_COUNTS, ...w.counts };
  const rows: [string, string][] = [
    ['workflow', String(w.workflowId)],
    ['name', w.name],
    ['user', w.user],
    ['campaign', w.campaign],
    ['queue', w.queue],
    ['state', w.state],
    [
      'jobs',
      `${c.total} total: ${c.released} released, ${c.unreleased} unreleased, ${c.processing} processing, ` +
        `${c.finished} finished, ${c.failed} failed, ${c.pruned} pruned, ${c.remaining} remaining`,
    ],
    ['created', w.createdAt ? w.createdAt.toISOString() : '-'],
    ['updated', w.updatedAt ? w.updatedAt.toISOString() : '-'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
