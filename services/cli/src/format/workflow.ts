import { workflowCounts } from '@panda/platform';
import type { Workflow } from '@panda/proto';

/** Workflow states after which nothing changes any more. */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'Finished',
  'SubFinished',
  'Failed',
  'Cancelled',
]);

export const isTerminal = (state: string): boolean => TERMINAL_STATES.has(state);

/** One line for `submit --wait`: `workflow 42 Transforming: 3 finished, 1 failed, 0 pruned, 6 remaining of 10`. */
export function formatProgress(w: Workflow): string {
  const c = workflowCounts(w);
  return (
    `workflow ${w.workflowId} ${w.state}: ${c.finished} finished, ${c.failed} failed, ` +
    `${c.pruned} pruned, ${c.remaining} remaining of ${c.total}`
  );
}

/** A few `key  value` lines for `panda status`. */
export function formatStatus(w: Workflow): string {
  const c = workflowCounts(w);
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
