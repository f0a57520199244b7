import type { Sql } from '@panda/platform';
import { iso, num } from './connection.js';

export interface TaskJson {
  taskId: number;
  workflowId: number;
  name: string;
  label: string;
  chunk: number;
  queue: string;
  state: string;
  priority: number;
  maxAttempts: number;
  inputsTotal: number;
  inputsFinished: number;
  inputsFailed: number;
  inputsMissing: number;
  createdAt: string | null;
  modifiedAt: string | null;
}

function taskFromRow(r: Record<string, unknown>): TaskJson {
  return {
    taskId: num(r['task_id']),
    workflowId: num(r['workflow_id']),
    name: String(r['name'] ?? ''),
    label: String(r['label'] ?? ''),
    chunk: num(r['chunk']),
    queue: String(r['queue'] ?? ''),
    state: String(r['state'] ?? ''),
    priority: num(r['priority']),
    maxAttempts: num(r['max_attempts']),
    inputsTotal: num(r['inputs_total']),
    inputsFinished: num(r['inputs_finished']),
    inputsFailed: num(r['inputs_failed']),
    inputsMissing: num(r['inputs_missing']),
    createdAt: iso(r['created_at']),
    modifiedAt: iso(r['modified_at']),
  };
}

export async function getTask(sql: Sql, taskId: number): Promise<TaskJson | undefined> {
  const rows = await sql.query(`SELECT * FROM jedi.tasks WHERE task_id = $1`, [taskId]);
  return rows[0] ? taskFromRow(rows[0]) : undefined;
}

export async function tasksOfWorkflow(sql: Sql, workflowId: number): Promise<TaskJson[]> {
  const rows = await sql.query(
    `SELECT * FROM jedi.tasks WHERE workflow_id = $1 ORDER BY task_id LIMIT 2000`,
    [workflowId],
  );
  return rows.map(taskFromRow);
}

/** Task inputs (DAG nodes) by state: defined, picked, finished, failed, missing. */
export async function inputStatesOfTask(sql: Sql, taskId: number): Promise<Record<string, number>> {
  const rows = await sql.query<{ state: string; n: string }>(
    `SELECT state, count(*) AS n FROM jedi.task_inputs WHERE task_id = $1 GROUP BY state`,
    [taskId],
  );
  return Object.fromEntries(rows.map((r) => [r.state, num(r.n)]));
}

export interface Histogram {
  /** What is counted, e.g. `max PSS (MB)`. */
  title: string;
  unit: string;
  count: number;
  min: number;
  max: number;
  /** `bins` equal-width buckets from min to max. */
  buckets: { from: number; to: number; count: number }[];
}

/** Fills empty buckets and computes bounds from width_bucket rows (bucket numbers 1..bins). */
export function toHistogram(
  title: string,
  unit: string,
  bins: number,
  rows: readonly { lo: unknown; hi: unknown; b: unknown; c: unknown }[],
): Histogram {
  const first = rows[0];
  if (!first) return { title, unit, count: 0, min: 0, max: 0, buckets: [] };
  const min = num(first.lo);
  const max = num(first.hi);
  const width = max > min ? (max - min) / bins : 1;
  const n = max > min ? bins : 1;
  const buckets = Array.from({ length: n }, (_, i) => ({
    from: min + i * width,
    to: min + (i + 1) * width,
    count: 0,
  }));
  let count = 0;
  for (const r of rows) {
    const i = Math.min(n, Math.max(1, num(r.b))) - 1;
    const bucket = buckets[i];
    if (bucket) bucket.count += num(r.c);
    count += num(r.c);
  }
  return { title, unit, count, min, max, buckets };
}

const DISTRIBUTIONS = {
  maxPss: {
    title: 'max PSS',
    unit: 'MB',
    expr: `(metrics->>'maxPssKb')::float8 / 1024`,
    where: `metrics ? 'maxPssKb'`,
  },
  duration: {
    title: 'duration',
    unit: 's',
    expr: `extract(epoch FROM end_time - start_time)::float8`,
    where: `start_time IS NOT NULL AND end_time IS NOT NULL`,
  },
} as const;
export type DistributionName = keyof typeof DISTRIBUTIONS;

/** Histogram of a measurement over the task's ended jobs (at most 100 000 of them). */
export async function taskDistribution(
  sql: Sql,
  taskId: number,
  name: DistributionName,
  bins = 20,
): Promise<Histogram> {
  const d = DISTRIBUTIONS[name];
  const rows = await sql.query<{ lo: unknown; hi: unknown; b: unknown; c: unknown }>(
    `WITH v AS (SELECT ${d.expr} AS x FROM server.jobs
                 WHERE task_id = $1 AND state IN ('finished','failed') AND ${d.where} LIMIT 100000),
          r AS (SELECT min(x) AS lo, max(x) AS hi FROM v)
     SELECT r.lo, r.hi, CASE WHEN r.hi > r.lo THEN width_bucket(v.x, r.lo, r.hi, $2) ELSE 1 END AS b, count(*) AS c
       FROM v, r WHERE v.x IS NOT NULL GROUP BY r.lo, r.hi, b ORDER BY b`,
    [taskId, bins],
  );
  return toHistogram(d.title, d.unit, bins, rows);
}
