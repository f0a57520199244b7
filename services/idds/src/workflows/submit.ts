import type { Logger, Outbox, Sql } from '@panda/platform';
import type { SubmitWorkflowChunk, TaskInputSpec, TaskServiceClient, WorkflowSpec } from '@panda/proto';
import { planTasks } from './plan-tasks.js';
import { releaseReadyNodes } from './release.js';
import { stageFanouts, unstage } from './staging.js';
import { finalJobNode, resolveJob } from './resolve.js';
import { storeWorkflow } from './store-workflow.js';
import { StreamIngest } from './stream-submit.js';
import { validateWorkflow } from './validate.js';
import type { TaskRow, WorkflowRow } from './workflow-row.js';
import { workflowEvent } from './workflow-row.js';
import { workflowStates } from './workflow-state.js';

const ACTIVATION_PAGE = 10_000;
/** Tasks sent to jedi side by side while a workflow is activated. */
const ACTIVATION_LANES = 3;
/** An activation renews its lease at every page; one that died is resumed after this. */
const LEASE_S = 120;

export interface SubmitOptions {
  maxJobsPerTask: number;
  defaultMaxAttempts: number;
  /** Fan-out from which a node's only-child-of-it children are staged; 0: never. */
  stageFanoutMin: number;
}

/**
 * Submission in three steps, each safe to repeat:
 * 1. validate, then store workflow, tasks, nodes and edges in one transaction (state New);
 * 2. stage the children of wide fan-outs, then ask jedi for one task per label chunk
 *    (idempotent there; staged inputs get their jobs now);
 * 3. record jedi's task ids, move to Transforming and release the roots, with the events.
 * A workflow left in New by a crash between steps is finished by `resumeNew`.
 */
export class WorkflowSubmitter {
  private resuming = false;

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
    const workflowId = await this.db.tx(async (sql) => {
      const id = await storeWorkflow(sql, wf, tasks, finalNode, this.options.defaultMaxAttempts);
      await takeLease(sql, id);
      return id;
    });
    this.logger.info({ workflowId, jobs: ordered.length, tasks: tasks.length }, 'workflow stored');
    try {
      await this.activate(workflowId, signal, true);
    } catch (err) {
      // Stored and accepted: resumeNew finishes the activation once jedi answers.
      this.logger.warn({ err, workflowId }, 'workflow stored but not activated yet; will retry');
    }
    return workflowId;
  }

  /** Step 1 for a streamed workflow (batches, parents first), then steps 2 and 3. */
  async submitStream(chunks: AsyncIterable<SubmitWorkflowChunk>, signal?: AbortSignal): Promise<number> {
    const started = performance.now();
    const { workflowId, total } = await this.db.tx(async (sql) => {
      const ingest = new StreamIngest(sql, this.options.maxJobsPerTask, this.options.defaultMaxAttempts);
      const stored = await ingest.run(chunks, signal);
      await takeLease(sql, stored.workflowId);
      return stored;
    });
    // Fresh statistics, or the planner scans whole workflows on every event after a big ingest.
    if (total >= 10_000) await this.db.query(`ANALYZE idds.nodes, idds.edges`);
    const ms = Math.round(performance.now() - started);
    this.logger.info({ workflowId, jobs: total, ms }, 'streamed workflow stored');
    try {
      await this.activate(workflowId, signal, true);
    } catch (err) {
      this.logger.warn({ err, workflowId }, 'workflow stored but not activated yet; will retry');
    }
    return workflowId;
  }

  /**
   * Steps 2 and 3 for a workflow in New (`leased`: the caller stored it and holds its lease),
   * under a lease renewed page by page: a resumer (of this or another replica) leaves a
   * workflow alone while someone is activating it.
   */
  async activate(workflowId: number, signal?: AbortSignal, leased = false): Promise<void> {
    const [wf] = await this.db.query<WorkflowRow>(
      `UPDATE idds.workflows SET activation_lease = now() + make_interval(secs => $2)
       WHERE workflow_id = $1 AND state = 'New'
         AND ($3 OR activation_lease IS NULL OR activation_lease < now())
       RETURNING *`,
      [workflowId, LEASE_S, leased],
    );
    if (!wf) return;
    try {
      await this.activateLeased(wf, signal);
    } catch (err) {
      await this.db.query(`UPDATE idds.workflows SET activation_lease = NULL WHERE workflow_id = $1`, [
        workflowId,
      ]);
      throw err;
    }
  }

  private async activateLeased(wf: WorkflowRow, signal?: AbortSignal): Promise<void> {
    const workflowId = Number(wf.workflow_id);
    const staged = await stageFanouts(this.db, workflowId, this.options.stageFanoutMin);
    if (staged) this.logger.info({ workflowId, staged }, 'wide fan-outs staged');
    const unstaged: number[] = [];
    const tasks = await this.db.query<TaskRow>(
      `SELECT * FROM idds.tasks WHERE workflow_id = $1 ORDER BY task_ref`,
      [workflowId],
    );
    // Each task is registered with its first input, in the workflow's order (jedi's task ids
    // follow it). Then page by page, ACTIVATION_LANES tasks at a time, each lane taking the next
    // task when done with one: memory follows the page size, not the workflow size, and jedi's
    // work on one page overlaps idds's and server's on another.
    const created: { name: string; taskId: number }[] = [];
    const rest: { task: TaskRow; after: string }[] = [];
    for (const task of tasks) {
      const sent = await this.sendPages(wf, task, { after: '0', first: true }, 1, 1, signal);
      created.push(...sent.created);
      unstaged.push(...sent.unstaged);
      if (!sent.done) rest.push({ task, after: sent.after });
    }
    const lane = async (): Promise<void> => {
      for (let r = rest.shift(); r; r = rest.shift()) {
        const start = { after: r.after, first: false };
        const sent = await this.sendPages(wf, r.task, start, ACTIVATION_PAGE, Infinity, signal);
        unstaged.push(...sent.unstaged);
      }
    };
    await Promise.all(Array.from({ length: ACTIVATION_LANES }, lane));
    await this.outbox.tx(async (sql) => {
      const [locked] = await sql.query<WorkflowRow>(
        `SELECT * FROM idds.workflows WHERE workflow_id = $1 FOR UPDATE`,
        [workflowId],
      );
      if (!locked || locked.state !== 'New') return;
      await sql.query(
        `UPDATE idds.tasks t SET jedi_task_id = c.id FROM unnest($2::text[], $3::bigint[]) AS c(name, id)
         WHERE t.workflow_id = $1 AND t.name = c.name`,
        [workflowId, created.map((t) => t.name), created.map((t) => t.taskId)],
      );
      await unstage(sql, unstaged);
      workflowStates.assertMove(locked.state, 'Transforming');
      const [moved] = await sql.query<WorkflowRow>(
        `UPDATE idds.workflows SET state = 'Transforming', activation_lease = NULL, updated_at = now()
         WHERE workflow_id = $1 RETURNING *`,
        [workflowId],
      );
      await this.outbox.write(sql, [workflowEvent(moved!, 'New')]);
      const released = await releaseReadyNodes(sql, this.outbox, workflowId);
      this.logger.info({ workflowId, released }, 'workflow transforming, roots released');
    });
  }

  /**
   * Inputs of one task of a workflow being activated, to jedi: up to `pages` pages after node
   * `start.after`, renewing the lease at each (the first call registers the task). `done` once
   * its last node went.
   */
  private async sendPages(
    wf: WorkflowRow,
    t: TaskRow,
    start: { after: string; first: boolean },
    pageSize: number,
    pages: number,
    signal?: AbortSignal,
  ): Promise<{
    created: { name: string; taskId: number }[];
    unstaged: number[];
    after: string;
    done: boolean;
  }> {
    const workflowId = Number(wf.workflow_id);
    const created: { name: string; taskId: number }[] = [];
    const unstaged: number[] = [];
    let { after, first } = start;
    for (let n = 0; n < pages; n++) {
      const page = await this.db.query<{
        node_id: string;
        name: string;
        command: string;
        memory_mb: number;
        cores: number;
        gate: string | null;
      }>(
        `SELECT n.node_id, n.name, n.command, n.memory_mb, n.cores,
           CASE WHEN n.state = 'staged' THEN (SELECT e.parent_id FROM idds.edges e WHERE e.child_id = n.node_id) END AS gate
         FROM idds.nodes n WHERE n.task_ref = $1 AND n.node_id > $2 ORDER BY n.node_id LIMIT $3`,
        [t.task_ref, after, pageSize],
      );
      if (page.length === 0 && !first) return { created, unstaged, after, done: true };
      const inputs: TaskInputSpec[] = page.map((n) => ({
        nodeId: Number(n.node_id),
        name: n.name,
        command: n.command,
        memoryMb: n.memory_mb,
        cores: n.cores,
        gateNodeId: Number(n.gate ?? 0),
      }));
      await this.db.query(
        `UPDATE idds.workflows SET activation_lease = now() + make_interval(secs => $2) WHERE workflow_id = $1`,
        [workflowId, LEASE_S],
      );
      const res = await this.jedi.createTasks(
        {
          workflowId,
          workflowName: wf.name,
          tasks: [
            {
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
              inputs,
            },
          ],
        },
        { signal },
      );
      if (first) created.push(...res.tasks);
      for (const t of res.tasks) unstaged.push(...t.unstagedNodeIds);
      first = false;
      if (page.length < pageSize) return { created, unstaged, after, done: true };
      after = page[page.length - 1]!.node_id;
    }
    return { created, unstaged, after, done: false };
  }

  /** Finishes submissions interrupted between steps (e.g. jedi was down). One run at a time. */
  async resumeNew(olderThanMs: number): Promise<void> {
    if (this.resuming) return;
    this.resuming = true;
    try {
      const rows = await this.db.query<{ workflow_id: string }>(
        `SELECT workflow_id FROM idds.workflows
         WHERE state = 'New' AND created_at < now() - make_interval(secs => $1)
           AND (activation_lease IS NULL OR activation_lease < now())
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
    } finally {
      this.resuming = false;
    }
  }
}

/**
 * Stored workflows are leased by their submitter before they commit: the resumer, which only
 * looks at their age, must not start a second activation while the first is on its way.
 */
async function takeLease(sql: Sql, workflowId: number): Promise<void> {
  await sql.query(
    `UPDATE idds.workflows SET activation_lease = clock_timestamp() + make_interval(secs => $2) WHERE workflow_id = $1`,
    [workflowId, LEASE_S],
  );
}
