import type { Sql } from '@panda/platform';
import { iso, num, Params } from './connection.js';
import { ACTIVE_JOB_STATES } from './jobs.js';

/** `{queue: {state: n}}`. */
export type CountsByQueue = Record<string, Record<string, number>>;

function nest(rows: readonly { queue: string; state: string; n: unknown }[]): CountsByQueue {
  const out: CountsByQueue = {};
  for (const r of rows) (out[r.queue] ??= {})[r.state] = num(r.n);
  return out;
}

/** Active jobs per queue and state (the jobs_active_queue partial index). */
export async function activeJobsByQueue(sql: Sql): Promise<CountsByQueue> {
  const rows = await sql.query<{ queue: string; state: string; n: unknown }>(
    `SELECT queue, state, count(*) AS n FROM server.jobs WHERE state = ANY($1::text[]) GROUP BY queue, state`,
    [ACTIVE_JOB_STATES],
  );
  return nest(rows);
}

/** Workers per queue and state. */
export async function workersByQueue(sql: Sql): Promise<CountsByQueue> {
  const rows = await sql.query<{ queue: string; state: string; n: unknown }>(
    `SELECT queue, state, count(*) AS n FROM harvester.workers GROUP BY queue, state`,
  );
  return nest(rows);
}

export interface WorkerJson {
  workerId: string;
  queue: string;
  state: string;
  submitter: string;
  batchId: string;
  cores: number;
  memoryMb: number;
  /** The walltime the worker was submitted with (s); 0 = no limit (local) or none asked for. */
  walltimeS: number;
  /** `file://<absolute path>` or a Kubernetes API path; '' when unknown. */
  logUrl: string;
  submittedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  stateChangedAt: string | null;
  exitCode: number | null;
  diag: string;
  nativeStatus: string;
}

/** A `harvester.workers` row (snake_case, as `SELECT *` gives it) as JSON. */
export function workerFromRow(r: Record<string, unknown>): WorkerJson {
  return {
    workerId: String(r['worker_id'] ?? ''),
    queue: String(r['queue'] ?? ''),
    state: String(r['state'] ?? ''),
    submitter: String(r['submitter'] ?? ''),
    batchId: String(r['batch_id'] ?? ''),
    cores: num(r['cores']),
    memoryMb: num(r['memory_mb']),
    walltimeS: num(r['walltime_s']),
    logUrl: String(r['log_url'] ?? ''),
    submittedAt: iso(r['submitted_at']),
    startedAt: iso(r['started_at']),
    endedAt: iso(r['ended_at']),
    stateChangedAt: iso(r['state_changed_at']),
    exitCode: r['exit_code'] === null || r['exit_code'] === undefined ? null : num(r['exit_code']),
    diag: String(r['diag'] ?? ''),
    nativeStatus: String(r['native_status'] ?? ''),
  };
}

export interface WorkerFilters {
  queue?: string | undefined;
  state?: string | undefined;
  /** Keyset: workers submitted before this ISO time. */
  before?: string | undefined;
  limit: number;
}

export async function listWorkers(
  sql: Sql,
  f: WorkerFilters,
): Promise<{ workers: WorkerJson[]; next: string | null }> {
  const p = new Params();
  const where: string[] = [];
  if (f.queue) where.push(`queue = ${p.add(f.queue)}`);
  if (f.state) where.push(`state = ${p.add(f.state)}`);
  if (f.before) where.push(`submitted_at < ${p.add(f.before)}::timestamptz`);
  const rows = await sql.query(
    `SELECT * FROM harvester.workers${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY submitted_at DESC LIMIT ${p.add(f.limit + 1)}`,
    p.values,
  );
  const workers = rows.slice(0, f.limit).map(workerFromRow);
  const last = workers[workers.length - 1];
  return { workers, next: rows.length > f.limit && last ? last.submittedAt : null };
}

export async function getWorker(sql: Sql, workerId: string): Promise<WorkerJson | undefined> {
  const rows = await sql.query(`SELECT * FROM harvester.workers WHERE worker_id = $1`, [workerId]);
  return rows[0] ? workerFromRow(rows[0]) : undefined;
}
