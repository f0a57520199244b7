import { TransitionTable } from '@panda/platform';

/**
 * Workflow (iDDS request) lifecycle, same names in code, database and API.
 * New: stored, tasks not yet created; Transforming: running; Finished: every node succeeded;
 * SubFinished: some succeeded; Failed: none succeeded; Cancelled: cancelled by the user.
 */
export type WorkflowState = 'New' | 'Transforming' | 'Finished' | 'SubFinished' | 'Failed' | 'Cancelled';

export const workflowStates = new TransitionTable<WorkflowState>('workflow', {
  New: ['Transforming', 'Failed', 'Cancelled'],
  Transforming: ['Finished', 'SubFinished', 'Failed', 'Cancelled'],
  Finished: [],
  // Restart re-runs what failed or was pruned (or cancelled).
  SubFinished: ['Transforming'],
  Failed: ['Transforming'],
  Cancelled: ['Transforming'],
});

export const TERMINAL_WORKFLOW_STATES: readonly WorkflowState[] = [
  'Finished',
  'SubFinished',
  'Failed',
  'Cancelled',
];

export interface NodeTally {
  total: number;
  finished: number;
  failed: number;
  pruned: number;
}

/** The state a running workflow is in given its node tallies. */
export function workflowStateOf(t: NodeTally): WorkflowState {
  if (t.finished + t.failed + t.pruned < t.total) return 'Transforming';
  if (t.finished === t.total) return 'Finished';
  return t.finished > 0 ? 'SubFinished' : 'Failed';
}
