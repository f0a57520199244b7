import type { NewJob } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';

export interface InputRow {
  input_id: string;
  task_id: string;
  node_id: string;
  name: string;
  command: string;
  memory_mb: number;
  cores: number;
  state: 'defined' | 'picked' | 'finished' | 'failed' | 'missing';
  attempt_nr: number;
  panda_id: string | null;
}

/** The job for one attempt at an input. */
export function jobFor(task: TaskRow, input: InputRow, attemptNr: number): NewJob {
  return {
    taskId: Number(task.task_id),
    inputId: Number(input.input_id),
    workflowId: Number(task.workflow_id),
    label: task.label,
    name: input.name,
    command: input.command,
    queue: task.queue,
    attemptNr,
    maxAttempts: task.max_attempts,
    memoryMb: input.memory_mb,
    cores: input.cores,
    priority: task.priority,
    walltimeS: task.walltime_s,
  };
}
