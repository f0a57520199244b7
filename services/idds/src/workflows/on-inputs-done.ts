import type { Outbox, OutgoingEvent, Sql } from '@panda/platform';
import { InputsPruned } from '@panda/proto';
import type { InputsDone } from '@panda/proto';
import { releaseReadyNodes } from './release.js';
import type { WorkflowRow } from './workflow-row.js';
import { workflowEvent } from './workflow-row.js';
import { workflowStateOf, workflowStates } from './workflow-state.js';

/**
 * jedi reports inputs done. Finished nodes count towards their children, and children whose
 * parents have all finished are released; descendants of a finally failed node are pruned
 * (they can never run); the workflow's counters and state follow. Nodes not in `released`
 * (a repeat) are left alone.
 */
export function onInputsDone(outbox: Outbox) {
  return async (sql: Sql, event: InputsDone): Promise<void> => {
    const [wf] = await sql.query<WorkflowRow>(
      `SELECT * FROM idds.workflows WHERE workflow_id = $1 FOR UPDATE`,
      [event.workflowId],
    );
    if (!wf || wf.state !== 'Transforming') return;
    const ids = (status: string) => event.results.filter((r) => r.status === status).map((r) => r.nodeId);

    const { ids: finished } = await markDone(sql, wf, ids('finished'), 'finished');
    const { ids: failed, wereUnreleased } = await markDone(sql, wf, ids('failed'), 'failed');

    let candidates: number[] = [];
    if (finished.length) {
      const children = await sql.query<{ node_id: string }>(
        `WITH c AS (SELECT child_id, count(*)::int AS k FROM idds.edges WHERE parent_id = ANY($1::bigint[])
                    GROUP BY child_id)
         UPDATE idds.nodes n SET n_parents_done = n.n_parents_done + c.k FROM c
         WHERE n.node_id = c.child_id RETURNING n.node_id`,
        [finished],
      );
      candidates = children.map((c) => Number(c.node_id));
    }
    let pruned = 0;
    if (failed.length) {
      const rows = await sql.query<{ node_id: string; jedi_task_id: string }>(
        `WITH RECURSIVE d(node_id) AS (
           SELECT child_id FROM idds.edges WHERE parent_id = ANY($1::bigint[])
           UNION SELECT e.child_id FROM idds.edges e JOIN d ON e.parent_id = d.node_id),
         p AS (UPDATE idds.nodes SET state = 'pruned' WHERE node_id IN (SELECT node_id FROM d) AND state = 'unreleased'
               RETURNING node_id, task_ref)
         SELECT p.node_id, t.jedi_task_id FROM p JOIN idds.tasks t USING (task_ref) ORDER BY p.node_id`,
        [failed],
      );
      pruned = rows.length;
      await outbox.write(sql, prunedEvents(Number(wf.workflow_id), rows));
    }
    if (candidates.length) await releaseReadyNodes(sql, outbox, Number(wf.workflow_id), candidates);

    const [counted] = await sql.query<WorkflowRow>(
      `UPDATE idds.workflows SET finished = finished + $2, failed = failed + $3, pruned = pruned + $4,
         released = released + $5, updated_at = now() WHERE workflow_id = $1 RETURNING *`,
      [wf.workflow_id, finished.length, failed.length, pruned, wereUnreleased],
    );
    const next = workflowStateOf(counted!);
    if (next !== counted!.state) {
      workflowStates.assertMove(counted!.state, next);
      const [moved] = await sql.query<WorkflowRow>(
        `UPDATE idds.workflows SET state = $2, updated_at = now() WHERE workflow_id = $1 RETURNING *`,
        [wf.workflow_id, next],
      );
      await outbox.write(sql, [workflowEvent(moved!, counted!.state)]);
    }
  };
}

async function markDone(
  sql: Sql,
  wf: WorkflowRow,
  nodeIds: number[],
  state: 'finished' | 'failed',
): Promise<{ ids: number[]; wereUnreleased: number }> {
  if (nodeIds.length === 0) return { ids: [], wereUnreleased: 0 };
  // A failure may come for a node never released: its task was killed or finished early.
  const from = state === 'failed' ? ['released', 'unreleased'] : ['released'];
  const rows = await sql.query<{ node_id: string; was: string }>(
    `WITH t AS (SELECT node_id, state AS was FROM idds.nodes
                WHERE workflow_id = $1 AND node_id = ANY($2::bigint[]) AND state = ANY($4::text[]) FOR UPDATE)
     UPDATE idds.nodes n SET state = $3 FROM t WHERE n.node_id = t.node_id RETURNING n.node_id, t.was`,
    [wf.workflow_id, nodeIds, state, from],
  );
  return {
    ids: rows.map((r) => Number(r.node_id)),
    wereUnreleased: rows.filter((r) => r.was === 'unreleased').length,
  };
}

function prunedEvents(
  workflowId: number,
  rows: { node_id: string; jedi_task_id: string }[],
): OutgoingEvent[] {
  const byTask = new Map<number, number[]>();
  for (const r of rows) {
    const t = Number(r.jedi_task_id);
    const list = byTask.get(t);
    if (list) list.push(Number(r.node_id));
    else byTask.set(t, [Number(r.node_id)]);
  }
  return [...byTask].map(([taskId, nodeIds]) => ({
    subject: 'panda.input.pruned',
    payload: InputsPruned.encode({ workflowId, taskId, nodeIds }).finish(),
  }));
}
