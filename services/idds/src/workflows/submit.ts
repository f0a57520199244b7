import type { Logger, Outbox, Sql } from '@panda/platform';
import type { TaskInputSpec, TaskServiceClient, WorkflowSpec } from '@panda/proto';
import { planTasks } from './plan-tasks.js';
import { releaseReadyNodes } from './release.js';
import { finalJobNode, resolveJob } from './resolve.js';
import { storeWorkflow } from './store-workflow.js';
import { validateWorkflow } from './validate.js';
import type { TaskRow, WorkflowRow } from './workflow-row.js';
import { workflowEvent } from './workflow-row.js';
import { workflowStates } from './workflow-state.js';

export interface SubmitOptions {
  maxJobsPerTask: number;
  defaultMaxAttempts: number;
}

/**
 * Submission in three steps, each safe to repeat:
 * 1. validate, then store workflow, tasks, nodes and edges in one transaction (state New);
 * 2. ask jedi for one task per label chunk (idempotent there);
 * 3. record jedi's task ids, move to Transforming and release the roots, with the events.
 * A workflow left in New by a crash between steps is finished by `resumeNew`.
 */
export class WorkflowSubmitter {
  constructor(
    private readonly db: Sql & { tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> },
    private readonly outbox: Outbox,
    private readonly jedi: TaskServiceClient,
    private readonly logger: Logger,
    private readonly options: SubmitOptions,
  ) {}

  async submit(spec: WorkflowSpec | undefined, signal?: AbortSignal): Promise<number> {
    const ordered = validateWorkflow(spec).map((j) => resolveJob(spec!, j));
    const wf = spec!;
    const finalNode = finalJobNode(wf);
    const tasks = planTasks(
      wf.name,
      finalNode ? [...ordered, finalNode] : ordered,
      wf.maxJobsPerTask || this.options.maxJobsPerTask,
    );
    const workflowId = await this.db.tx((sql) =>
      storeWorkflow(sql, wf, tasks, finalNode, this.options.defaultMaxAttempts),
    );
    this.logger.info({ workflowId, jobs: ordered.length, tasks: tasks.length }, 'workflow stored');
    try {
      await this.activate(workflowId, signal);
    } catch (err) {
      // Stored and accepted: resumeNew finishes the activation once jedi answers.
      this.logger.warn({ err, workflowId }, 'workflow stored but not activated yet; will retry');
    }
    return workflowId;
  }

  /** Steps 2 and 3 for a workflow in New. */
  async activate(workflowId: number, signal?: AbortSignal): Promise<void> {
    const [wf] = await this.db.query<WorkflowRow>(`SELECT * FROM idds.workflows WHERE workflow_id = $1`, [
      workflowId,
    ]);
    if (!wf || wf.state !== 'New') return;
    const tasks = await this.db.query<TaskRow>(
      `SELECT * FROM idds.tasks WHERE workflow_id = $1 ORDER BY task_ref`,
      [workflowId],
    );
    const nodes = await this.db.query<{
      node_id: string;
      task_ref: string;
      name: string;
      command: string;
      memory_mb: number;
      cores: number;
    }>(
      `SELECT node_id, task_ref, name, command, memory_mb, cores FROM idds.nodes WHERE workflow_id = $1 ORDER BY node_id`,
      [workflowId],
    );
    const inputsOf = new Map<string, TaskInputSpec[]>();
    for (const n of nodes) {
      const input = {
        nodeId: Number(n.node_id),
        name: n.name,
        command: n.command,
        memoryMb: n.memory_mb,
        cores: n.cores,
      };
      const list = inputsOf.get(n.task_ref);
      if (list) list.push(input);
      else inputsOf.set(n.task_ref, [input]);
    }
    const created = await this.jedi.createTasks(
      {
        workflowId,
        workflowName: wf.name,
        tasks: tasks.map((t) => ({
          name: t.name,
          label: t.label,
          chunk: t.chunk,
          queue: t.queue,
          maxAttempts: t.max_attempts,
          priority: t.priority,
          walltimeS: t.walltime_s,
          site: t.site,
          memoryMultiplier: t.memory_multiplier,
          memoryMaxMb: t.memory_max_mb,
          inputs: inputsOf.get(t.task_ref) ?? [],
        })),
      },
      { signal },
    );
    await this.outbox.tx(async (sql) => {
      const [locked] = await sql.query<WorkflowRow>(
        `SELECT * FROM idds.workflows WHERE workflow_id = $1 FOR UPDATE`,
        [workflowId],
      );
      if (!locked || locked.state !== 'New') return;
      await sql.query(
        `UPDATE idds.tasks t SET jedi_task_id = c.id FROM unnest($2::text[], $3::bigint[]) AS c(name, id)
         WHERE t.workflow_id = $1 AND t.name = c.name`,
        [workflowId, created.tasks.map((t) => t.name), created.tasks.map((t) => t.taskId)],
      );
      workflowStates.assertMove(locked.state, 'Transforming');
      const [moved] = await sql.query<WorkflowRow>(
        `UPDATE idds.workflows SET state = 'Transforming', updated_at = now() WHERE workflow_id = $1 RETURNING *`,
        [workflowId],
      );
      await this.outbox.write(sql, [workflowEvent(moved!, 'New')]);
      const released = await releaseReadyNodes(sql, this.outbox, workflowId);
      this.logger.info({ workflowId, released }, 'workflow transforming, roots released');
    });
  }

  /** Finishes submissions interrupted between steps (e.g. jedi was down). */
  async resumeNew(olderThanMs: number): Promise<void> {
    const rows = await this.db.query<{ workflow_id: string }>(
      `SELECT workflow_id FROM idds.workflows WHERE state = 'New' AND created_at < now() - make_interval(secs => $1)
       ORDER BY workflow_id LIMIT 100`,
      [olderThanMs / 1000],
    );
    for (const r of rows) {
      try {
        await this.activate(Number(r.workflow_id));
      } catch (err) {
        this.logger.warn({ err, workflowId: r.workflow_id }, 'resuming a new workflow failed; will retry');
      }
    }
  }
}
