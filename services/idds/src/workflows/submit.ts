import type { Logger, Outbox, Sql } from '@panda/platform';
import type { TaskInputSpec, TaskServiceClient, WorkflowSpec } from '@panda/proto';
import { planTasks } from './plan-tasks.js';
import { releaseReadyNodes } from './release.js';
import { validateWorkflow } from './validate.js';
import type { WorkflowRow } from './workflow-row.js';
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
    const ordered = validateWorkflow(spec);
    const wf = spec!;
    const tasks = planTasks(wf.name, ordered, this.options.maxJobsPerTask);
    const workflowId = await this.db.tx(async (sql) => {
      const [row] = await sql.query<{ workflow_id: string }>(
        `INSERT INTO idds.workflows (name, user_name, campaign, queue, max_attempts, state, total, site,
           memory_multiplier, memory_max_mb)
         VALUES ($1, $2, $3, $4, $5, 'New', $6, $7, $8, $9) RETURNING workflow_id`,
        [
          wf.name,
          wf.user,
          wf.campaign,
          wf.queue,
          wf.maxAttempts || this.options.defaultMaxAttempts,
          ordered.length,
          wf.site,
          wf.memoryMultiplier,
          wf.memoryMaxMb,
        ],
      );
      const id = row!.workflow_id;
      const refs = await sql.query<{ task_ref: string; name: string }>(
        `INSERT INTO idds.tasks (workflow_id, name, label, chunk)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[]) RETURNING task_ref, name`,
        [id, tasks.map((t) => t.name), tasks.map((t) => t.label), tasks.map((t) => t.chunk)],
      );
      const refOf = new Map(refs.map((r) => [r.name, r.task_ref]));
      const nodeTask = tasks.flatMap((t) => t.jobs.map(() => refOf.get(t.name)!));
      const jobs = tasks.flatMap((t) => t.jobs);
      await sql.query(
        `INSERT INTO idds.nodes (workflow_id, task_ref, name, label, command, memory_mb, cores, state, n_parents)
         SELECT $1, r, n, l, c, m, k, 'unreleased', p
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[])
           AS u(r, n, l, c, m, k, p)`,
        [
          id,
          nodeTask,
          jobs.map((j) => j.name),
          jobs.map((j) => j.label),
          jobs.map((j) => j.command),
          jobs.map((j) => j.memoryMb),
          jobs.map((j) => j.cores),
          jobs.map((j) => j.parents.length),
        ],
      );
      const edges = jobs.flatMap((j) => j.parents.map((p) => [p, j.name] as const));
      await sql.query(
        `INSERT INTO idds.edges (parent_id, child_id)
         SELECT p.node_id, c.node_id FROM unnest($2::text[], $3::text[]) AS e(pn, cn)
         JOIN idds.nodes p ON p.workflow_id = $1 AND p.name = e.pn
         JOIN idds.nodes c ON c.workflow_id = $1 AND c.name = e.cn`,
        [id, edges.map((e) => e[0]), edges.map((e) => e[1])],
      );
      return Number(id);
    });
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
    const tasks = await this.db.query<{ task_ref: string; name: string; label: string; chunk: number }>(
      `SELECT task_ref, name, label, chunk FROM idds.tasks WHERE workflow_id = $1 ORDER BY task_ref`,
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
          queue: wf.queue,
          maxAttempts: wf.max_attempts,
          priority: 0,
          walltimeS: 0,
          site: wf.site,
          memoryMultiplier: wf.memory_multiplier,
          memoryMaxMb: wf.memory_max_mb,
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
