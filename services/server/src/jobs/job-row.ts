import type { Job, JobError, JobMetrics } from '@panda/proto';

/** A row of server.jobs as the pg driver returns it (bigint as string). */
export interface JobRow {
  panda_id: string;
  task_id: string;
  input_id: string;
  workflow_id: string;
  label: string;
  name: string;
  command: string;
  queue: string;
  state: string;
  attempt_nr: number;
  max_attempts: number;
  memory_mb: number;
  cores: number;
  priority: number;
  walltime_s: number;
  exit_code: number;
  error_code: number;
  error_diag: string;
  worker_id: string;
  node: string;
  command_to_pilot: string;
  created_at: Date;
  state_changed_at: Date;
  start_time: Date | null;
  end_time: Date | null;
  errors: JobError[];
  metrics: JobMetrics | null;
  kill_state: 'cancelled' | 'closed' | null;
  gate_node_id: string;
  activated_at: Date | null;
}

export function toJob(r: JobRow): Job {
  return {
    pandaId: Number(r.panda_id),
    taskId: Number(r.task_id),
    inputId: Number(r.input_id),
    workflowId: Number(r.workflow_id),
    label: r.label,
    name: r.name,
    command: r.command,
    queue: r.queue,
    state: r.state,
    attemptNr: r.attempt_nr,
    maxAttempts: r.max_attempts,
    memoryMb: r.memory_mb,
    cores: r.cores,
    priority: r.priority,
    walltimeS: r.walltime_s,
    exitCode: r.exit_code,
    errorCode: r.error_code,
    errorDiag: r.error_diag,
    workerId: r.worker_id,
    node: r.node,
    commandToPilot: r.command_to_pilot,
    createdAt: r.created_at,
    stateChangedAt: r.state_changed_at,
    startTime: r.start_time ?? undefined,
    endTime: r.end_time ?? undefined,
    errors: r.errors,
    metrics: r.metrics ?? undefined,
    activatedAt: r.activated_at ?? undefined,
    gateNodeId: Number(r.gate_node_id),
  };
}
