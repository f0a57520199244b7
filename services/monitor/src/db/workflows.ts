import type { Sql, WorkflowJson } from '@panda/platform';
import { iso, num, Params } from './connection.js';

export interface WorkflowListFilters {
  user?: string | undefined;
  state?: string | undefined;
  campaign?: string | undefined;
  /** Only workflows created in the last N days. */
  days?: number | undefined;
  /** Keyset: workflows with a smaller id. */
  before?: number | undefined;
  limit: number;
}

export interface WorkflowRowJson extends WorkflowJson {
  tasksByState: Record<string, number>;
}

export function workflowListQuery(f: WorkflowListFilters): { text: string; params: unknown[] } {
  const p = new Params();
  const where: string[] = [];
  if (f.user) where.push(`w.user_name = ${p.add(f.user)}`);
  if (f.state) where.push(`w.state = ${p.add(f.state)}`);
  if (f.campaign) where.push(`w.campaign = ${p.add(f.campaign)}`);
  if (f.days) where.push(`w.created_at > now() - ${p.add(f.days)} * interval '1 day'`);
  if (f.before) where.push(`w.workflow_id < ${p.add(f.before)}`);
  const text = `SELECT w.*, (SELECT jsonb_object_agg(s.state, s.n) FROM
      (SELECT t.state, count(*) AS n FROM jedi.tasks t WHERE t.workflow_id = w.workflow_id GROUP BY t.state) s)
      AS tasks_by_state
    FROM idds.workflows w${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY w.workflow_id DESC LIMIT ${p.add(f.limit + 1)}`;
  return { text, params: p.values };
}

function workflowFromRow(r: Record<string, unknown>): WorkflowRowJson {
  const total = num(r['total']);
  const released = num(r['released']);
  const finished = num(r['finished']);
  const failed = num(r['failed']);
  const pruned = num(r['pruned']);
  const tasks = (r['tasks_by_state'] ?? {}) as Record<string, unknown>;
  return {
    workflowId: num(r['workflow_id']),
    name: String(r['name'] ?? ''),
    user: String(r['user_name'] ?? ''),
    campaign: String(r['campaign'] ?? ''),
    queue: String(r['queue'] ?? ''),
    state: String(r['state'] ?? ''),
    // The same arithmetic as idds's workflow-row.ts.
    counts: {
      total,
      released,
      unreleased: total - released - pruned,
      processing: released - finished - failed,
      finished,
      failed,
      pruned,
      remaining: total - finished - failed - pruned,
    },
    createdAt: iso(r['created_at']),
    updatedAt: iso(r['updated_at']),
    tasksByState: Object.fromEntries(Object.entries(tasks).map(([k, v]) => [k, num(v)])),
  };
}

export async function listWorkflowRows(
  sql: Sql,
  f: WorkflowListFilters,
): Promise<{ workflows: WorkflowRowJson[]; next: number | null }> {
  const q = workflowListQuery(f);
  const rows = await sql.query(q.text, q.params);
  const workflows = rows.slice(0, f.limit).map(workflowFromRow);
  const last = workflows[workflows.length - 1];
  return { workflows, next: rows.length > f.limit && last ? last.workflowId : null };
}

export interface LabelEdge {
  parent: string;
  child: string;
}

/**
 * Edges between labels (a workflow's DAG never changes after submission, so callers cache it).
 * idds stores a workflow's nodes task by task, so each task usually holds one unbroken run of
 * node ids: then every edge is classified by where its two ids fall among those runs, read from
 * the edges' primary key alone (about 50 ms for 80 000 nodes, against 300-600 ms for joining
 * every edge to both of its nodes). When a run is broken (nodes of a task interleaved with
 * others) the join is used, so the answer is exact either way.
 */
export async function labelEdges(sql: Sql, workflowId: number): Promise<LabelEdge[]> {
  const spans = (
    await sql.query<{ label: string; lo: unknown; hi: unknown; n: unknown }>(
      `SELECT min(label) AS label, min(node_id) AS lo, max(node_id) AS hi, count(*) AS n
         FROM idds.nodes WHERE workflow_id = $1 GROUP BY task_ref ORDER BY lo`,
      [workflowId],
    )
  ).map((r) => ({ label: r.label, lo: num(r.lo), hi: num(r.hi), n: num(r.n) }));
  const first = spans[0];
  const last = spans[spans.length - 1];
  if (!first || !last) return [];
  const unbroken = spans.every((s, i) => s.hi - s.lo + 1 === s.n && (i === 0 || spans[i - 1]!.hi < s.lo));
  if (!unbroken) return labelEdgesByJoin(sql, workflowId);
  // Bucket 2k-1 of width_bucket is [lo, hi] of the k-th run; even buckets lie outside every run.
  const bounds = spans.flatMap((s) => [s.lo, s.hi + 1]);
  const rows = await sql.query<{ p: number; c: number }>(
    `SELECT DISTINCT width_bucket(parent_id, $1::bigint[]) AS p, width_bucket(child_id, $1::bigint[]) AS c
       FROM idds.edges WHERE parent_id BETWEEN $2 AND $3`,
    [bounds, first.lo, last.hi],
  );
  const labelOf = (bucket: number) => (bucket % 2 === 1 ? spans[(bucket - 1) / 2]?.label : undefined);
  const pairs = new Map<string, LabelEdge>();
  for (const r of rows) {
    const parent = labelOf(r.p);
    const child = labelOf(r.c);
    if (parent !== undefined && child !== undefined) pairs.set(`${parent}\u0000${child}`, { parent, child });
  }
  return [...pairs.values()].sort((a, b) =>
    a.parent === b.parent ? (a.child < b.child ? -1 : 1) : a.parent < b.parent ? -1 : 1,
  );
}

/** The same edges by joining each edge to its two nodes (any layout of node ids). */
export async function labelEdgesByJoin(sql: Sql, workflowId: number): Promise<LabelEdge[]> {
  return sql.query<LabelEdge>(
    `SELECT DISTINCT p.label AS parent, c.label AS child
       FROM idds.nodes c JOIN idds.edges e ON e.child_id = c.node_id JOIN idds.nodes p ON p.node_id = e.parent_id
      WHERE c.workflow_id = $1 ORDER BY 1, 2 LIMIT 10000`,
    [workflowId],
  );
}
