import type { OutgoingEvent } from '@panda/platform';
import { WorkflowChanged } from '@panda/proto';
import type { Workflow } from '@panda/proto';
import type { WorkflowState } from './workflow-state.js';

export interface WorkflowRow {
  workflow_id: string;
  name: string;
  user_name: string;
  campaign: string;
  queue: string;
  max_attempts: number;
  state: WorkflowState;
  total: number;
  released: number;
  finished: number;
  failed: number;
  pruned: number;
  created_at: Date;
  updated_at: Date;
  site: string;
  memory_multiplier: number;
  memory_max_mb: number;
  final_when: '' | 'ALWAYS' | 'SUCCESS';
}

export interface TaskRow {
  task_ref: string;
  workflow_id: string;
  name: string;
  label: string;
  chunk: number;
  jedi_task_id: string | null;
  queue: string;
  site: string;
  max_attempts: number;
  priority: number;
  walltime_s: number;
  memory_multiplier: number;
  memory_max_mb: number;
}

export function toWorkflow(r: WorkflowRow): Workflow {
  return {
    workflowId: Number(r.workflow_id),
    name: r.name,
    user: r.user_name,
    campaign: r.campaign,
    queue: r.queue,
    state: r.state,
    counts: {
      total: r.total,
      released: r.released,
      unreleased: r.total - r.released - r.pruned,
      processing: r.released - r.finished - r.failed,
      finished: r.finished,
      failed: r.failed,
      pruned: r.pruned,
      remaining: r.total - r.finished - r.failed - r.pruned,
    },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function workflowEvent(r: WorkflowRow, previous: string): OutgoingEvent {
  return {
    subject: `panda.workflow.${r.state}`,
    payload: WorkflowChanged.encode({
      workflowId: Number(r.workflow_id),
      name: r.name,
      previousState: previous,
      state: r.state,
    }).finish(),
  };
}
