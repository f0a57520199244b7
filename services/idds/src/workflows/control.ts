import { FailedPreconditionError, NotFoundError } from '@panda/platform';
import type { Database, Logger, Outbox } from '@panda/platform';
import type { TaskServiceClient, Workflow } from '@panda/proto';
import { ClientError, Status } from 'nice-grpc-common';
import type { WorkflowRow } from './workflow-row.js';
import { toWorkflow, workflowEvent } from './workflow-row.js';
import { workflowStates } from './workflow-state.js';

/** Cancel and restart of whole workflows; both may be repeated safely. */
export class WorkflowControl {
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox,
    private readonly jedi: TaskServiceClient,
    private readonly logger: Logger,
  ) {}

  /**
   * Marks the workflow Cancelled (nothing more is released), then kills every task: queued
   * jobs end at once, running pilots are told at their next heartbeat. Repeating it re-sends
   * the kills.
   */
  async cancel(workflowId: number, signal?: AbortSignal): Promise<Workflow> {
    const wf = await this.outbox.tx(async (sql) => {
      const [row] = await sql.query<WorkflowRow>(
        `SELECT * FROM idds.workflows WHERE workflow_id = $1 FOR UPDATE`,
        [workflowId],
      );
      if (!row) throw new NotFoundError('workflow', workflowId);
      if (row.state === 'Cancelled') return row;
      if (!workflowStates.canMove(row.state, 'Cancelled')) {
        throw new FailedPreconditionError(`workflow ${workflowId} is ${row.state}: nothing to cancel`);
      }
      const [moved] = await sql.query<WorkflowRow>(
        `UPDATE idds.workflows SET state = 'Cancelled', updated_at = now() WHERE workflow_id = $1 RETURNING *`,
        [workflowId],
      );
      await this.outbox.write(sql, [workflowEvent(moved!, row.state)]);
      return moved!;
    });
    const tasks = await this.db.query<{ jedi_task_id: string }>(
      `SELECT jedi_task_id FROM idds.tasks WHERE workflow_id = $1 AND jedi_task_id IS NOT NULL ORDER BY task_ref`,
      [workflowId],
    );
    for (const t of tasks) {
      try {
        await this.jedi.killTask({ taskId: Number(t.jedi_task_id), hard: false, priority: 0 }, { signal });
      } catch (err) {
        // A task already done or aborted has nothing left to kill.
        if (!(err instanceof ClientError && err.code === Status.FAILED_PRECONDITION)) throw err;
      }
    }
    this.logger.info({ workflowId, tasks: tasks.length }, 'workflow cancelled');
    return toWorkflow(wf);
  }

  /**
   * Re-runs an ended workflow's failed, pruned and cancelled nodes: those whose parents all
   * finished run again now, the others wait for their parents again; finished nodes stay.
   * Counters are recomputed from the nodes. Restarting a workflow that is running is a no-op.
   */
  async restart(workflowId: number, signal?: AbortSignal): Promise<Workflow> {
    const plan = await this.outbox.tx(async (sql) => {
      const [row] = await sql.query<WorkflowRow>(
        `SELECT * FROM idds.workflows WHERE workflow_id = $1 FOR UPDATE`,
        [workflowId],
      );
      if (!row) throw new NotFoundError('workflow', workflowId);
      if (row.state === 'Transforming' || row.state === 'New') return { row, tasks: [] };
      if (!workflowStates.canMove(row.state, 'Transforming')) {
        throw new FailedPreconditionError(`workflow ${workflowId} is ${row.state}: nothing to restart`);
      }
      // Recount settled parents from scratch, then decide each unfinished node.
      await sql.query(
        `UPDATE idds.nodes n SET n_parents_dead = 0, n_parents_done = COALESCE(
           (SELECT count(*) FROM idds.edges e JOIN idds.nodes p ON p.node_id = e.parent_id
            WHERE e.child_id = n.node_id AND p.state = 'finished'), 0)
         WHERE n.workflow_id = $1 AND n.state <> 'finished'`,
        [workflowId],
      );
      const nodes = await sql.query<{ node_id: string; jedi_task_id: string; rerun: boolean }>(
        `UPDATE idds.nodes n SET state = CASE WHEN n.n_parents_done = n.n_parents AND NOT n.is_final
                                              THEN 'released' ELSE 'unreleased' END
         FROM idds.tasks t
         WHERE n.workflow_id = $1 AND n.state <> 'finished' AND t.task_ref = n.task_ref
         RETURNING n.node_id, t.jedi_task_id, n.state = 'released' AS rerun`,
        [workflowId],
      );
      const [moved] = await sql.query<WorkflowRow>(
        `UPDATE idds.workflows w SET state = 'Transforming', updated_at = now(), failed = 0, pruned = 0,
           finished = (SELECT count(*) FROM idds.nodes WHERE workflow_id = $1 AND state = 'finished'),
           released = (SELECT count(*) FROM idds.nodes WHERE workflow_id = $1 AND state IN ('finished', 'released'))
         WHERE workflow_id = $1 RETURNING *`,
        [workflowId],
      );
      await this.outbox.write(sql, [workflowEvent(moved!, row.state)]);
      const byTask = new Map<number, { rerun: number[]; reset: number[] }>();
      for (const n of nodes) {
        const t = byTask.get(Number(n.jedi_task_id)) ?? { rerun: [], reset: [] };
        (n.rerun ? t.rerun : t.reset).push(Number(n.node_id));
        byTask.set(Number(n.jedi_task_id), t);
      }
      return { row: moved!, tasks: [...byTask] };
    });
    for (const [taskId, { rerun, reset }] of plan.tasks) {
      await this.jedi.restartInputs({ taskId, rerunNodeIds: rerun, resetNodeIds: reset }, { signal });
    }
    this.logger.info({ workflowId, tasks: plan.tasks.length }, 'workflow restarted');
    return toWorkflow(plan.row);
  }
}
