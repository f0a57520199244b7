import { InvalidArgumentError, NotFoundError } from '@panda/platform';
import type { Outbox, OutgoingEvent, Sql } from '@panda/platform';
import { TaskChanged } from '@panda/proto';
import type { CreatedTask, CreateTasksRequest, Task, TaskInputSpec } from '@panda/proto';
import type { InputRow } from '../inputs/input-row.js';
import { taskStates } from './task-state.js';
import type { TaskState } from './task-state.js';

export interface TaskRow {
  task_id: string;
  workflow_id: string;
  name: string;
  label: string;
  chunk: number;
  queue: string;
  state: TaskState;
  priority: number;
  max_attempts: number;
  walltime_s: number;
  inputs_total: number;
  inputs_finished: number;
  inputs_failed: number;
  inputs_missing: number;
  created_at: Date;
  site: string;
  memory_multiplier: number;
  memory_max_mb: number;
  pending_reason: string;
  old_state: TaskState | null;
  finish_hard: boolean;
}

export const DEFAULTS = {
  maxAttempts: 3,
  priority: 900,
  walltimeS: 90_000,
  memoryMb: 1024,
  cores: 1,
  memoryMaxMb: 512_000,
};

export function toTask(r: TaskRow): Task {
  return {
    taskId: Number(r.task_id),
    workflowId: Number(r.workflow_id),
    name: r.name,
    label: r.label,
    state: r.state,
    queue: r.queue,
    priority: r.priority,
    inputsTotal: r.inputs_total,
    inputsFinished: r.inputs_finished,
    inputsFailed: r.inputs_failed,
    inputsMissing: r.inputs_missing,
    pendingReason: r.pending_reason,
    maxAttempts: r.max_attempts,
    site: r.site,
    createdAt: r.created_at,
  };
}

export function taskEvent(row: TaskRow, previous: string): OutgoingEvent {
  return {
    subject: `panda.task.${row.state}`,
    payload: TaskChanged.encode({
      taskId: Number(row.task_id),
      workflowId: Number(row.workflow_id),
      previousState: previous,
      state: row.state,
    }).finish(),
  };
}

/** Moves a task (row locked by the caller) along its transition table and records the event. */
export async function moveTask(sql: Sql, outbox: Outbox, row: TaskRow, to: TaskState): Promise<TaskRow> {
  taskStates.assertMove(row.state, to);
  const [moved] = await sql.query<TaskRow>(
    `UPDATE jedi.tasks SET state = $2, modified_at = now() WHERE task_id = $1 RETURNING *`,
    [row.task_id, to],
  );
  await outbox.write(sql, [taskEvent(moved!, row.state)]);
  return moved!;
}

/** Makes the jobs of staged inputs at once; returns the node ids it could not stage. */
export type Stager = (
  sql: Sql,
  task: TaskRow,
  staged: { input: InputRow; gateNodeId: number }[],
) => Promise<number[]>;

export class TaskStore {
  constructor(
    private readonly outbox: Outbox,
    private readonly sql: Sql,
    private readonly stager: Stager,
  ) {}

  /**
   * Creates tasks and their inputs. Idempotent per (workflow, task name) and per node.
   * Inputs with a gate are staged: their jobs are made now, waiting for the gate to open.
   */
  async create(req: CreateTasksRequest): Promise<CreatedTask[]> {
    req.tasks.forEach((t, i) => {
      if (!t.name) throw new InvalidArgumentError(`tasks[${i}].name`, 'is empty');
      if (!t.queue && !t.site)
        throw new InvalidArgumentError(`tasks[${i}]`, `task ${t.name}: neither queue nor site`);
      if (t.inputs.length === 0)
        throw new InvalidArgumentError(`tasks[${i}].inputs`, `task ${t.name}: no inputs`);
    });
    return this.outbox.tx(async (sql) => {
      const created: CreatedTask[] = [];
      for (const t of req.tasks) {
        const inserted = await sql.query<TaskRow>(
          `INSERT INTO jedi.tasks (workflow_id, name, label, chunk, queue, state, priority, max_attempts,
             walltime_s, inputs_total, site, memory_multiplier, memory_max_mb)
           VALUES ($1, $2, $3, $4, $5, 'ready', $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (workflow_id, name) DO NOTHING RETURNING *`,
          [
            req.workflowId,
            t.name,
            t.label,
            t.chunk,
            t.queue,
            t.priority || DEFAULTS.priority,
            t.maxAttempts || DEFAULTS.maxAttempts,
            t.walltimeS || DEFAULTS.walltimeS,
            t.inputs.length,
            t.site,
            t.memoryMultiplier,
            t.memoryMaxMb || DEFAULTS.memoryMaxMb,
          ],
        );
        const row =
          inserted[0] ??
          (
            await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE workflow_id = $1 AND name = $2`, [
              req.workflowId,
              t.name,
            ])
          )[0]!;
        // Inputs may come over several calls (big workflows are activated page by page).
        const added = await sql.query<InputRow>(
          `INSERT INTO jedi.task_inputs (task_id, node_id, name, command, memory_mb, base_memory_mb, cores, state)
           SELECT $1, n, nm, c, m, m, k, 'defined'
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::int[], $6::int[]) AS u(n, nm, c, m, k)
           ON CONFLICT (node_id) DO NOTHING RETURNING *`,
          [
            row.task_id,
            t.inputs.map((i) => i.nodeId),
            t.inputs.map((i) => i.name),
            t.inputs.map((i) => i.command),
            t.inputs.map((i) => i.memoryMb || DEFAULTS.memoryMb),
            t.inputs.map((i) => i.cores || DEFAULTS.cores),
          ],
        );
        if (!inserted[0] && added.length) {
          await sql.query(`UPDATE jedi.tasks SET inputs_total = inputs_total + $2 WHERE task_id = $1`, [
            row.task_id,
            added.length,
          ]);
        }
        if (inserted[0]) await this.outbox.write(sql, [taskEvent(row, '')]);
        created.push({
          name: t.name,
          taskId: Number(row.task_id),
          unstagedNodeIds: await this.stage(sql, row, t.inputs, added),
        });
      }
      return created;
    });
  }

  /**
   * Stages the inputs asked to be staged. A repeated call stages nothing new; it reports
   * those still without a job (a crash came between), so idds releases them the usual way.
   */
  private async stage(sql: Sql, task: TaskRow, specs: TaskInputSpec[], added: InputRow[]): Promise<number[]> {
    const gateOf = new Map(specs.filter((i) => i.gateNodeId > 0).map((i) => [i.nodeId, i.gateNodeId]));
    if (gateOf.size === 0) return [];
    const fresh = added.filter((i) => gateOf.has(Number(i.node_id)));
    const unstaged =
      fresh.length === 0
        ? []
        : await this.stager(
            sql,
            task,
            fresh.map((input) => ({ input, gateNodeId: gateOf.get(Number(input.node_id))! })),
          );
    const freshIds = new Set(fresh.map((i) => Number(i.node_id)));
    const earlier = [...gateOf.keys()].filter((n) => !freshIds.has(n));
    if (earlier.length === 0) return unstaged;
    const waiting = await sql.query<{ node_id: string }>(
      `SELECT node_id FROM jedi.task_inputs WHERE task_id = $1 AND node_id = ANY($2::bigint[]) AND state = 'defined'`,
      [task.task_id, earlier],
    );
    return [...unstaged, ...waiting.map((r) => Number(r.node_id))];
  }

  async get(taskId: number): Promise<Task> {
    const [row] = await this.sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1`, [taskId]);
    if (!row) throw new NotFoundError('task', taskId);
    return toTask(row);
  }

  async list(workflowId: number): Promise<Task[]> {
    const rows = await this.sql.query<TaskRow>(
      `SELECT * FROM jedi.tasks WHERE ($1::bigint = 0 OR workflow_id = $1) ORDER BY task_id LIMIT 10000`,
      [workflowId],
    );
    return rows.map(toTask);
  }
}
