import type { Outbox, OutgoingEvent, Sql } from '@panda/platform';
import { InputsPruned, InputsReleased } from '@panda/proto';
import type { InputsDone } from '@panda/proto';
import { releaseReadyNodes } from './release.js';
import { openGates } from './staging.js';
import type { WorkflowRow } from './workflow-row.js';
import { workflowEvent } from './workflow-row.js';
import { workflowStateOf, workflowStates } from './workflow-state.js';

/**
 * jedi reports inputs done. A finished node counts as a good parent of its children, a
 * finally failed one as a dead parent. A child is released when every parent finished; once
 * every parent is settled and one is dead it is pruned, and so on down (set-based, level by
 * level). A failed job with attempts left never reaches here, so it blocks its children.
 * The final job runs when everything else is settled (ALWAYS) or all succeeded (SUCCESS).
 */
export function onInputsDone(outbox: Outbox) {
  return async (sql: Sql, event: InputsDone): Promise<void> => {
    const [wf] = await sql.query<WorkflowRow>(
      `SELECT * FROM idds.workflows WHERE workflow_id = $1 FOR UPDATE`,
      [event.workflowId],
    );
    if (!wf || wf.state !== 'Transforming') return;
    const ids = (status: string) => event.results.filter((r) => r.status === status).map((r) => r.nodeId);

    const done = await markDone(sql, wf, ids('finished'), 'finished');
    const { ids: failed, wereUnreleased: failedUnreleased } = await markDone(
      sql,
      wf,
      ids('failed'),
      'failed',
    );
    const finished = done.ids;
    // Staged children of a finished gate start at once (jedi activates their jobs).
    const gated = await openGates(sql, outbox, Number(wf.workflow_id), finished);
    const wereUnreleased = done.wereUnreleased + failedUnreleased + gated;
    const candidates = [
      ...(await countParents(sql, finished, 'n_parents_done')),
      ...(await countParents(sql, failed, 'n_parents_dead')),
    ];
    // Prune children whose parents are all settled with one dead, then their children, ...
    const prunedRows: { node_id: string; jedi_task_id: string }[] = [];
    let frontier = candidates;
    while (frontier.length) {
      const rows = await sql.query<{ node_id: string; jedi_task_id: string }>(
        `WITH p AS (UPDATE idds.nodes SET state = 'pruned'
                    WHERE node_id = ANY($1::bigint[]) AND state IN ('unreleased', 'staged') AND n_parents_dead > 0
                      AND n_parents_done + n_parents_dead = n_parents
                    RETURNING node_id, task_ref)
         SELECT p.node_id, t.jedi_task_id FROM p JOIN idds.tasks t USING (task_ref) ORDER BY p.node_id`,
        [frontier],
      );
      prunedRows.push(...rows);
      frontier = await countParents(
        sql,
        rows.map((r) => Number(r.node_id)),
        'n_parents_dead',
      );
      candidates.push(...frontier);
    }
    await outbox.write(sql, perTask(Number(wf.workflow_id), prunedRows, 'panda.input.pruned'));
    if (candidates.length) await releaseReadyNodes(sql, outbox, Number(wf.workflow_id), candidates);

    let [counted] = await sql.query<WorkflowRow>(
      `UPDATE idds.workflows SET finished = finished + $2, failed = failed + $3, pruned = pruned + $4,
         released = released + $5, updated_at = now() WHERE workflow_id = $1 RETURNING *`,
      [wf.workflow_id, finished.length, failed.length, prunedRows.length, wereUnreleased],
    );
    counted = await settleFinalJob(sql, outbox, counted!);
    const next = workflowStateOf(counted);
    if (next !== counted.state) {
      workflowStates.assertMove(counted.state, next);
      const [moved] = await sql.query<WorkflowRow>(
        `UPDATE idds.workflows SET state = $2, updated_at = now() WHERE workflow_id = $1 RETURNING *`,
        [wf.workflow_id, next],
      );
      await outbox.write(sql, [workflowEvent(moved!, counted.state)]);
    }
  };
}

/**
 * Adds 1 per settled parent to `column` of its children; returns the children touched. A
 * finished gate's staged children are not counted: the gate opening releases them.
 */
async function countParents(
  sql: Sql,
  parents: number[],
  column: 'n_parents_done' | 'n_parents_dead',
): Promise<number[]> {
  if (parents.length === 0) return [];
  const rows = await sql.query<{ node_id: string }>(
    `WITH c AS (SELECT child_id, count(*)::int AS k FROM idds.edges WHERE parent_id = ANY($1::bigint[])
                GROUP BY child_id)
     UPDATE idds.nodes n SET ${column} = n.${column} + c.k FROM c
     WHERE n.node_id = c.child_id ${column === 'n_parents_done' ? `AND n.state <> 'staged'` : ''} RETURNING n.node_id`,
    [parents],
  );
  return rows.map((r) => Number(r.node_id));
}

/**
 * Once every other node is settled, the final job (if any, still unreleased) is released
 * (ALWAYS, or SUCCESS when all succeeded) or pruned (SUCCESS after a failure).
 */
async function settleFinalJob(sql: Sql, outbox: Outbox, wf: WorkflowRow): Promise<WorkflowRow> {
  if (!wf.final_when) return wf;
  const settled = wf.finished + wf.failed + wf.pruned;
  if (settled !== wf.total - 1) return wf;
  const [final] = await sql.query<{ node_id: string; state: string }>(
    `SELECT node_id, state FROM idds.nodes WHERE workflow_id = $1 AND is_final FOR UPDATE`,
    [wf.workflow_id],
  );
  if (!final || final.state !== 'unreleased') return wf;
  if (wf.final_when === 'ALWAYS' || wf.failed + wf.pruned === 0) {
    const rows = await sql.query<{ node_id: string; jedi_task_id: string }>(
      `WITH r AS (UPDATE idds.nodes SET state = 'released' WHERE node_id = $1 RETURNING node_id, task_ref)
       SELECT r.node_id, t.jedi_task_id FROM r JOIN idds.tasks t USING (task_ref)`,
      [final.node_id],
    );
    await outbox.write(sql, perTask(Number(wf.workflow_id), rows, 'panda.input.released'));
    const [row] = await sql.query<WorkflowRow>(
      `UPDATE idds.workflows SET released = released + 1 WHERE workflow_id = $1 RETURNING *`,
      [wf.workflow_id],
    );
    return row!;
  }
  const rows = await sql.query<{ node_id: string; jedi_task_id: string }>(
    `WITH p AS (UPDATE idds.nodes SET state = 'pruned' WHERE node_id = $1 RETURNING node_id, task_ref)
     SELECT p.node_id, t.jedi_task_id FROM p JOIN idds.tasks t USING (task_ref)`,
    [final.node_id],
  );
  await outbox.write(sql, perTask(Number(wf.workflow_id), rows, 'panda.input.pruned'));
  const [row] = await sql.query<WorkflowRow>(
    `UPDATE idds.workflows SET pruned = pruned + 1 WHERE workflow_id = $1 RETURNING *`,
    [wf.workflow_id],
  );
  return row!;
}

async function markDone(
  sql: Sql,
  wf: WorkflowRow,
  nodeIds: number[],
  state: 'finished' | 'failed',
): Promise<{ ids: number[]; wereUnreleased: number }> {
  if (nodeIds.length === 0) return { ids: [], wereUnreleased: 0 };
  // A failure may come for a node never released: its task was killed or finished early.
  // A staged node settles from `staged`; it counts as released once its gate finished (its
  // job could not run before), so only one that fails before (its task killed) counts here.
  const from = state === 'failed' ? ['released', 'unreleased', 'staged'] : ['released', 'staged'];
  const rows = await sql.query<{ node_id: string; was: string; waiting: boolean }>(
    `WITH t AS (SELECT node_id, state AS was FROM idds.nodes
                WHERE workflow_id = $1 AND node_id = ANY($2::bigint[]) AND state = ANY($4::text[]) FOR UPDATE)
     UPDATE idds.nodes n SET state = $3 FROM t WHERE n.node_id = t.node_id
     RETURNING n.node_id, t.was, $3 = 'failed' AND t.was = 'staged' AND NOT EXISTS (
       SELECT 1 FROM idds.edges e JOIN idds.nodes p ON p.node_id = e.parent_id
       WHERE e.child_id = n.node_id AND p.state = 'finished') AS waiting`,
    [wf.workflow_id, nodeIds, state, from],
  );
  return {
    ids: rows.map((r) => Number(r.node_id)),
    wereUnreleased: rows.filter((r) => r.was === 'unreleased' || r.waiting).length,
  };
}

/** One event per jedi task, e.g. `panda.input.pruned` with InputsPruned. */
function perTask(
  workflowId: number,
  rows: { node_id: string; jedi_task_id: string }[],
  subject: 'panda.input.pruned' | 'panda.input.released',
): OutgoingEvent[] {
  const byTask = new Map<number, number[]>();
  for (const r of rows) {
    const t = Number(r.jedi_task_id);
    const list = byTask.get(t);
    if (list) list.push(Number(r.node_id));
    else byTask.set(t, [Number(r.node_id)]);
  }
  const codec = subject === 'panda.input.pruned' ? InputsPruned : InputsReleased;
  return [...byTask].map(([taskId, nodeIds]) => ({
    subject,
    payload: codec.encode({ workflowId, taskId, nodeIds }).finish(),
  }));
}
