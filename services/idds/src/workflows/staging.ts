import type { Outbox, Sql } from '@panda/platform';
import { GateOpened } from '@panda/proto';

/**
 * Staged fan-out. A node with at least `min` children that have it as their only parent is a
 * gate; those children are `staged`: jedi makes their jobs at submission, `defined` in
 * server. When the gate finishes they are activated in one statement per task, instead of
 * being released and made one batch at a time while the rest of the workflow runs. Runs
 * while the workflow is New (idempotent: it only moves unreleased nodes). Returns how many.
 */
export async function stageFanouts(sql: Sql, workflowId: number, min: number): Promise<number> {
  if (min <= 0) return 0;
  const rows = await sql.query<{ n: string }>(
    `WITH wide AS (
       SELECT e.parent_id FROM idds.nodes c JOIN idds.edges e ON e.child_id = c.node_id
       WHERE c.workflow_id = $1 AND c.n_parents = 1 AND NOT c.is_final
       GROUP BY e.parent_id HAVING count(*) >= $2),
     gates AS (UPDATE idds.nodes SET is_gate = true WHERE node_id IN (SELECT parent_id FROM wide)
               RETURNING node_id),
     staged AS (UPDATE idds.nodes c SET state = 'staged' FROM idds.edges e
                WHERE e.parent_id IN (SELECT node_id FROM gates) AND c.node_id = e.child_id
                  AND c.n_parents = 1 AND NOT c.is_final AND c.state = 'unreleased'
                RETURNING 1)
     SELECT count(*) AS n FROM staged`,
    [workflowId, min],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Staged children asked for but not staged by jedi (no queue fitted then): back to
 * `unreleased`, released the usual way when their parent finishes.
 */
export async function unstage(sql: Sql, nodeIds: number[]): Promise<void> {
  if (nodeIds.length === 0) return;
  await sql.query(
    `UPDATE idds.nodes SET state = 'unreleased' WHERE node_id = ANY($1::bigint[]) AND state = 'staged'`,
    [nodeIds],
  );
}

/**
 * For the gates among just-finished nodes: one `panda.gate.opened` each, naming the tasks
 * of the staged children, which count as released from now on. They stay `staged` (no
 * second write of thousands of rows while their jobs are being activated): a staged node
 * whose gate finished is released, and settles from `staged` like any released node.
 */
export async function openGates(
  sql: Sql,
  outbox: Outbox,
  workflowId: number,
  finished: number[],
): Promise<number> {
  if (finished.length === 0) return 0;
  const gates = await sql.query<{ node_id: string }>(
    `SELECT node_id FROM idds.nodes WHERE node_id = ANY($1::bigint[]) AND is_gate ORDER BY node_id`,
    [finished],
  );
  let released = 0;
  for (const g of gates) {
    const tasks = await sql.query<{ jedi_task_id: string; n: number }>(
      `SELECT t.jedi_task_id, count(*)::int AS n FROM idds.edges e JOIN idds.nodes c ON c.node_id = e.child_id
         JOIN idds.tasks t ON t.task_ref = c.task_ref
       WHERE e.parent_id = $1 AND c.state = 'staged' GROUP BY t.jedi_task_id ORDER BY 1`,
      [g.node_id],
    );
    if (tasks.length === 0) continue;
    released += tasks.reduce((a, t) => a + t.n, 0);
    const event = {
      workflowId,
      gateNodeId: Number(g.node_id),
      taskIds: tasks.map((t) => Number(t.jedi_task_id)),
    };
    await outbox.write(sql, [{ subject: 'panda.gate.opened', payload: GateOpened.encode(event).finish() }]);
  }
  return released;
}

/** Staged nodes of a workflow whose gate finished (released, though still `staged`), per label. */
export async function openStagedByLabel(
  sql: Sql,
  workflowId: number,
): Promise<{ label: string; count: number }[]> {
  return sql.query<{ label: string; count: number }>(
    `SELECT c.label, count(*)::int AS count FROM idds.nodes g JOIN idds.edges e ON e.parent_id = g.node_id
       JOIN idds.nodes c ON c.node_id = e.child_id
     WHERE g.workflow_id = $1 AND g.is_gate AND g.state = 'finished' AND c.state = 'staged'
     GROUP BY c.label`,
    [workflowId],
  );
}
