import type { Sql } from '@panda/platform';
import { iso, num, Params } from './connection.js';

export interface JobErrorJson {
  source: string;
  code: number;
  diag: string;
}

/** A job as the monitor shows it (same field names as panda.server.v1.Job in JSON). */
export interface JobJson {
  pandaId: number;
  taskId: number;
  inputId: number;
  workflowId: number;
  label: string;
  name: string;
  command: string;
  queue: string;
  state: string;
  attemptNr: number;
  maxAttempts: number;
  memoryMb: number;
  cores: number;
  priority: number;
  walltimeS: number;
  exitCode: number;
  errorCode: number;
  errorDiag: string;
  workerId: string;
  node: string;
  commandToPilot: string;
  createdAt: string | null;
  stateChangedAt: string | null;
  startTime: string | null;
  endTime: string | null;
  errors: JobErrorJson[];
  metrics: Record<string, number> | null;
}

export const JOB_STATES = [
  'pending',
  'defined',
  'activated',
  'throttled',
  'sent',
  'starting',
  'running',
  'holding',
  'transferring',
  'finished',
  'failed',
  'cancelled',
  'closed',
] as const;

/** States a job never leaves: its pilot has sent its last log batch and uploaded its archive. */
export const FINAL_JOB_STATES: ReadonlySet<string> = new Set(['finished', 'failed', 'cancelled', 'closed']);

export const ACTIVE_JOB_STATES = [
  'activated',
  'throttled',
  'sent',
  'starting',
  'running',
  'holding',
  'transferring',
];

export interface JobFilters {
  workflowId?: number | undefined;
  taskId?: number | undefined;
  states?: readonly string[] | undefined;
  queue?: string | undefined;
  errorCode?: number | undefined;
  attempt?: number | undefined;
  workerId?: string | undefined;
  /** Hide earlier attempts of the same input (bigmon's mode=drop). */
  drop?: boolean | undefined;
  /** Keyset: only jobs with a smaller panda id. */
  before?: number | undefined;
  limit: number;
}

function errorsOf(v: unknown): JobErrorJson[] {
  if (!Array.isArray(v)) return [];
  return v.map((e: { source?: unknown; code?: unknown; diag?: unknown }) => ({
    source: String(e.source ?? ''),
    code: num(e.code),
    diag: String(e.diag ?? ''),
  }));
}

function metricsOf(v: unknown): Record<string, number> | null {
  if (v === null || typeof v !== 'object') return null;
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = num(x);
  return out;
}

export function jobFromRow(r: Record<string, unknown>): JobJson {
  return {
    pandaId: num(r['panda_id']),
    taskId: num(r['task_id']),
    inputId: num(r['input_id']),
    workflowId: num(r['workflow_id']),
    label: String(r['label'] ?? ''),
    name: String(r['name'] ?? ''),
    command: String(r['command'] ?? ''),
    queue: String(r['queue'] ?? ''),
    state: String(r['state'] ?? ''),
    attemptNr: num(r['attempt_nr']),
    maxAttempts: num(r['max_attempts']),
    memoryMb: num(r['memory_mb']),
    cores: num(r['cores']),
    priority: num(r['priority']),
    walltimeS: num(r['walltime_s']),
    exitCode: num(r['exit_code']),
    errorCode: num(r['error_code']),
    errorDiag: String(r['error_diag'] ?? ''),
    workerId: String(r['worker_id'] ?? ''),
    node: String(r['node'] ?? ''),
    commandToPilot: String(r['command_to_pilot'] ?? ''),
    createdAt: iso(r['created_at']),
    stateChangedAt: iso(r['state_changed_at']),
    startTime: iso(r['start_time']),
    endTime: iso(r['end_time']),
    errors: errorsOf(r['errors']),
    metrics: metricsOf(r['metrics']),
  };
}

/** The WHERE clause and parameters of a job list; exported for tests. */
export function jobListQuery(f: JobFilters): { text: string; params: unknown[] } {
  const p = new Params();
  const where: string[] = [];
  if (f.workflowId) where.push(`j.workflow_id = ${p.add(f.workflowId)}`);
  if (f.taskId) where.push(`j.task_id = ${p.add(f.taskId)}`);
  if (f.states?.length) where.push(`j.state = ANY(${p.add(f.states)}::text[])`);
  if (f.queue) where.push(`j.queue = ${p.add(f.queue)}`);
  if (f.workerId) where.push(`j.worker_id = ${p.add(f.workerId)}`);
  if (f.attempt) where.push(`j.attempt_nr = ${p.add(f.attempt)}`);
  if (f.errorCode) {
    const code = p.add(f.errorCode);
    where.push(
      `(j.error_code = ${code} OR (j.errors <> '[]'::jsonb ` +
        `AND j.errors @> jsonb_build_array(jsonb_build_object('code', ${code}::int))))`,
    );
  }
  if (f.drop) {
    where.push(
      `NOT EXISTS (SELECT 1 FROM server.jobs r WHERE r.input_id = j.input_id AND r.attempt_nr > j.attempt_nr)`,
    );
  }
  if (f.before) where.push(`j.panda_id < ${p.add(f.before)}`);
  const text = `SELECT j.* FROM server.jobs j${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY j.panda_id DESC LIMIT ${p.add(f.limit + 1)}`;
  return { text, params: p.values };
}

/** One page of jobs, newest first; `next` is the `before` of the next page or null. */
export async function listJobs(sql: Sql, f: JobFilters): Promise<{ jobs: JobJson[]; next: number | null }> {
  const q = jobListQuery(f);
  const rows = await sql.query(q.text, q.params);
  const jobs = rows.slice(0, f.limit).map(jobFromRow);
  const last = jobs[jobs.length - 1];
  return { jobs, next: rows.length > f.limit && last ? last.pandaId : null };
}

export async function getJob(sql: Sql, pandaId: number): Promise<JobJson | undefined> {
  const rows = await sql.query(`SELECT * FROM server.jobs WHERE panda_id = $1`, [pandaId]);
  return rows[0] ? jobFromRow(rows[0]) : undefined;
}

/** Every attempt at the same input, first attempt first. */
export async function attemptsOf(sql: Sql, inputId: number): Promise<JobJson[]> {
  const rows = await sql.query(
    `SELECT * FROM server.jobs WHERE input_id = $1 ORDER BY attempt_nr LIMIT 100`,
    [inputId],
  );
  return rows.map(jobFromRow);
}

/** Jobs of one task by state (all attempts). */
export async function jobStatesOfTask(sql: Sql, taskId: number): Promise<Record<string, number>> {
  const rows = await sql.query<{ state: string; n: string }>(
    `SELECT state, count(*) AS n FROM server.jobs WHERE task_id = $1 GROUP BY state`,
    [taskId],
  );
  return Object.fromEntries(rows.map((r) => [r.state, num(r.n)]));
}
