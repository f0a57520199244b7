import type { Outbox, Sql } from '@panda/platform';
import { InputsReleased } from '@panda/proto';

/**
 * Releases the workflow's unreleased nodes whose parents have all finished (optionally only
 * among `candidates`) and emits one `panda.input.released` per task. Returns how many.
 */
export async function releaseReadyNodes(
  sql: Sql,
  outbox: Outbox,
  workflowId: number,
  candidates?: number[],
): Promise<number> {
  const rows = await sql.query<{ node_id: string; jedi_task_id: string }>(
    `WITH r AS (
       UPDATE idds.nodes SET state = 'released'
       WHERE workflow_id = $1 AND state = 'unreleased' AND n_parents_done = n_parents AND NOT is_final
         AND ($2::bigint[] IS NULL OR node_id = ANY($2::bigint[]))
       RETURNING node_id, task_ref)
     SELECT r.node_id, t.jedi_task_id FROM r JOIN idds.tasks t USING (task_ref) ORDER BY r.node_id`,
    [workflowId, candidates ?? null],
  );
  const byTask = new Map<number, number[]>();
  for (const r of rows) {
    const t = Number(r.jedi_task_id);
    const list = byTask.get(t);
    if (list) list.push(Number(r.node_id));
    else byTask.set(t, [Number(r.node_id)]);
  }
  // Small events, so jedi can make jobs (holding the task's row) a few thousand at a time.
  const BATCH = 1000;
  const events = [...byTask].flatMap(([taskId, nodeIds]) => {
    const out = [];
    for (let i = 0; i < nodeIds.length; i += BATCH) {
      out.push({
        subject: 'panda.input.released',
        payload: InputsReleased.encode({ workflowId, taskId, nodeIds: nodeIds.slice(i, i + BATCH) }).finish(),
      });
    }
    return out;
  });
  await outbox.write(sql, events);
  if (rows.length) {
    await sql.query(
      `UPDATE idds.workflows SET released = released + $2, updated_at = now() WHERE workflow_id = $1`,
      [workflowId, rows.length],
    );
  }
  return rows.length;
}
