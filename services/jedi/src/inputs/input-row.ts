import type { NewJob } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';

export type InputState = 'defined' | 'ready' | 'picked' | 'finished' | 'failed' | 'missing';

export interface InputRow {
  input_id: string;
  task_id: string;
  node_id: string;
  name: string;
  command: string;
  /** Memory of the next attempt (boosted after out-of-memory failures). */
  memory_mb: number;
  base_memory_mb: number;
  cores: number;
  /** 0 = the task's walltime. */
  walltime_s: number;
  state: InputState;
  attempt_nr: number;
  failed_attempts: number;
  oom_failures: number;
  panda_id: string | null;
  queue: string;
}

export const walltimeOf = (task: TaskRow, input: InputRow): number => input.walltime_s || task.walltime_s;

/** The job for one attempt at an input on a brokered queue (staged behind a gate, or not: 0). */
export function jobFor(
  task: TaskRow,
  input: InputRow,
  attemptNr: number,
  queue: string,
  gateNodeId = 0,
): NewJob {
  return {
    taskId: Number(task.task_id),
    inputId: Number(input.input_id),
    workflowId: Number(task.workflow_id),
    label: task.label,
    name: input.name,
    command: input.command,
    queue,
    attemptNr,
    maxAttempts: task.max_attempts,
    memoryMb: input.memory_mb,
    cores: input.cores,
    priority: task.priority,
    walltimeS: walltimeOf(task, input),
    gateNodeId,
  };
}
