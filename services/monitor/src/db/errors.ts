import type { Sql } from '@panda/platform';
import { num, Params } from './connection.js';

export interface ErrorFilters {
  days: number;
  queue?: string | undefined;
  taskId?: number | undefined;
  workflowId?: number | undefined;
  user?: string | undefined;
  /** How many of the most recent ended jobs with errors are read (bigmon's `limit`). */
  limit: number;
}

export interface ErrorCount {
  source: string;
  code: number;
  count: number;
  /** One diagnostic seen with this code. */
  sample: string;
}

export interface KeyedErrorCount extends ErrorCount {
  /** Queue name, task id or user name. */
  key: string;
  /** The task's label (byTask only). */
  label?: string;
}

export interface ErrorSummary {
  /** Jobs read (ended with an error, newest first, at most `limit`). */
  jobs: number;
  overall: ErrorCount[];
  byQueue: KeyedErrorCount[];
  byTask: KeyedErrorCount[];
  byUser: KeyedErrorCount[];
}

/** Error pairs of a job; jobs from before `errors` existed give their pilot pair. */
const PAIRS = `CASE WHEN jsonb_array_length(j.errors) > 0 THEN j.errors
  ELSE jsonb_build_array(jsonb_build_object('source', 'pilot', 'code', j.error_code, 'diag', j.error_diag)) END`;

/** The query of the errors summary: one scan, four groupings (exported for tests). */
export function errorSummaryQuery(f: ErrorFilters): { text: string; params: unknown[] } {
  const p = new Params();
  const where = [
    `j.state IN ('failed','cancelled','closed')`,
    `j.state_changed_at > now() - ${p.add(f.days)} * interval '1 day'`,
  ];
  if (f.queue) where.push(`j.queue = ${p.add(f.queue)}`);
  if (f.taskId) where.push(`j.task_id = ${p.add(f.taskId)}`);
  if (f.workflowId) where.push(`j.workflow_id = ${p.add(f.workflowId)}`);
  if (f.user)
    where.push(
      `j.workflow_id IN (SELECT workflow_id FROM idds.workflows WHERE user_name = ${p.add(f.user)})`,
    );
  // jsonb_to_recordset reads each pair once (cheaper than ->> per field on jsonb_array_elements).
  const text = `WITH j AS (SELECT j.queue, j.task_id, j.label, j.workflow_id, ${PAIRS} AS pairs
                  FROM server.jobs j WHERE ${where.join(' AND ')}
                 ORDER BY j.state_changed_at DESC LIMIT ${p.add(f.limit)}),
     e AS (SELECT j.queue, j.task_id, j.label, j.workflow_id, x.source, x.code, x.diag
             FROM j CROSS JOIN LATERAL jsonb_to_recordset(j.pairs) AS x(source text, code int, diag text)
            WHERE x.code <> 0)
SELECT GROUPING(e.queue) AS gq, GROUPING(e.task_id) AS gt, GROUPING(w.user_name) AS gu,
       e.source, e.code, e.queue, e.task_id, max(e.label) AS label, w.user_name,
       count(*) AS n, max(e.diag) AS sample, (SELECT count(*) FROM j) AS jobs
  FROM e LEFT JOIN idds.workflows w ON w.workflow_id = e.workflow_id
 GROUP BY GROUPING SETS ((e.source, e.code), (e.source, e.code, e.queue), (e.source, e.code, e.task_id),
                         (e.source, e.code, w.user_name))
 ORDER BY n DESC, e.code LIMIT 400`;
  return { text, params: p.values };
}

interface SummaryRow {
  gq: unknown;
  gt: unknown;
  gu: unknown;
  source: string;
  code: unknown;
  queue: string | null;
  task_id: unknown;
  label: string | null;
  user_name: string | null;
  n: unknown;
  sample: string | null;
  jobs: unknown;
}

export async function errorSummary(sql: Sql, f: ErrorFilters, top = 20): Promise<ErrorSummary> {
  const q = errorSummaryQuery(f);
  const rows = await sql.query<SummaryRow>(q.text, q.params);
  const summary: ErrorSummary = {
    jobs: num(rows[0]?.jobs),
    overall: [],
    byQueue: [],
    byTask: [],
    byUser: [],
  };
  for (const r of rows) {
    const base = { source: r.source, code: num(r.code), count: num(r.n), sample: r.sample ?? '' };
    const [gq, gt, gu] = [num(r.gq), num(r.gt), num(r.gu)];
    if (gq && gt && gu) summary.overall.push(base);
    else if (!gq) summary.byQueue.push({ ...base, key: r.queue ?? '' });
    else if (!gt) summary.byTask.push({ ...base, key: String(num(r.task_id)), label: r.label ?? '' });
    else summary.byUser.push({ ...base, key: r.user_name ?? '(unknown)' });
  }
  summary.overall = summary.overall.slice(0, top);
  summary.byQueue = summary.byQueue.slice(0, top);
  summary.byTask = summary.byTask.slice(0, top);
  summary.byUser = summary.byUser.slice(0, top);
  return summary;
}
