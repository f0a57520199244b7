import { FailedPreconditionError, NotFoundError } from '@panda/platform';
import type { Outbox, Sql } from '@panda/platform';
import type { JobServiceClient, Task } from '@panda/proto';
import type { InputRow } from '../inputs/input-row.js';
import type { JobGenerator } from '../inputs/job-generator.js';
import { closeTaskIfDone, settleInputs } from './task-progress.js';
import { taskStates } from './task-state.js';
import type { TaskState } from './task-state.js';
import type { TaskRow } from './task-store.js';
import { moveTask, toTask } from './task-store.js';

/** The states a task can be aborted from: every state before prepared (toretry lasts one command). */
const LIVE = taskStates.sourcesOf('aborting');

/**
 * Where each command may be given (the original's checks, our state names). A command that
 * moves the task is allowed where the lifecycle has that move.
 */
const ALLOWED = {
  kill: new Set(LIVE),
  finish: new Set(taskStates.sourcesOf('finishing')),
  // Not done or aborted, which only a workflow restart reopens.
  retry: new Set<TaskState>(['finished', 'failed', 'exhausted']),
  pause: new Set(taskStates.sourcesOf('paused')),
  resume: new Set<TaskState>(['paused', 'throttled']),
  restart: new Set<TaskState>([
    'ready',
    'pending',
    'running',
    'done',
    'finished',
    'failed',
    'exhausted',
    'aborted',
    'prepared',
  ]),
  setPriority: new Set(LIVE),
} satisfies Record<string, ReadonlySet<TaskState>>;

/** Kill codes (server): 50 killed by JEDI (cancelled), 55 task done (closed). */
const KILL_BY_JEDI = 50;
const TASK_DONE = 55;

export class TaskCommands {
  constructor(
    private readonly outbox: Outbox,
    private readonly server: JobServiceClient,
    private readonly generator: JobGenerator,
  ) {}

  /** Abort: queued jobs end at once, running ones are told to die; nothing new is made. */
  kill(taskId: number, signal?: AbortSignal): Promise<Task> {
    return this.command(taskId, 'kill', async (sql, t) => {
      const aborting = await moveTask(sql, this.outbox, t, 'aborting');
      await this.server.killJobs(
        { pandaIds: [], taskId, code: KILL_BY_JEDI, reason: 'task killed', queuedOnly: false },
        { signal },
      );
      return this.failWaitingInputs(sql, aborting);
    });
  }

  /** Finish with what is done: soft lets running jobs end, hard kills them too. */
  finish(taskId: number, hard: boolean, signal?: AbortSignal): Promise<Task> {
    return this.command(taskId, 'finish', async (sql, t) => {
      await sql.query(`UPDATE jedi.tasks SET finish_hard = $2 WHERE task_id = $1`, [taskId, hard]);
      const finishing = await moveTask(sql, this.outbox, t, 'finishing');
      await this.server.killJobs(
        {
          pandaIds: [],
          taskId,
          code: TASK_DONE,
          reason: `task finished (${hard ? 'hard' : 'soft'})`,
          queuedOnly: !hard,
        },
        { signal },
      );
      return this.failWaitingInputs(sql, finishing);
    });
  }

  /** Re-run the inputs that did not succeed, with fresh user attempts. */
  retry(taskId: number): Promise<Task> {
    return this.command(taskId, 'retry', async (sql, _t) => {
      const inputs = await sql.query<InputRow>(
        `UPDATE jedi.task_inputs SET state = 'ready', failed_attempts = 0, modified_at = now()
         WHERE task_id = $1 AND state = 'failed' RETURNING *`,
        [taskId],
      );
      const [counted] = await sql.query<TaskRow>(
        `UPDATE jedi.tasks SET inputs_failed = inputs_failed - $2 WHERE task_id = $1 RETURNING *`,
        [taskId, inputs.length],
      );
      const toretry = await moveTask(sql, this.outbox, counted!, 'toretry');
      const ready = await moveTask(sql, this.outbox, toretry, 'ready');
      return this.generator.generate(
        sql,
        ready,
        inputs.map((input) => ({ input, attemptNr: input.attempt_nr + 1 })),
      );
    });
  }

  pause(taskId: number, signal?: AbortSignal): Promise<Task> {
    return this.command(taskId, 'pause', async (sql, t) => {
      await sql.query(`UPDATE jedi.tasks SET old_state = $2 WHERE task_id = $1`, [taskId, t.state]);
      const paused = await moveTask(sql, this.outbox, t, 'paused');
      await this.server.pauseJobs({ taskId }, { signal });
      return paused;
    });
  }

  resume(taskId: number, signal?: AbortSignal): Promise<Task> {
    return this.command(taskId, 'resume', async (sql, t) => {
      const back: TaskState = t.old_state === 'running' || t.old_state === 'pending' ? 'running' : 'ready';
      const resumed = await moveTask(sql, this.outbox, t, back);
      await this.server.resumeJobs({ taskId }, { signal });
      const waiting = await sql.query<InputRow>(
        `SELECT * FROM jedi.task_inputs WHERE task_id = $1 AND state = 'ready' ORDER BY input_id FOR UPDATE`,
        [taskId],
      );
      return this.generator.generate(
        sql,
        resumed,
        waiting.map((input) => ({ input, attemptNr: input.attempt_nr + 1 })),
      );
    });
  }

  setPriority(taskId: number, priority: number, signal?: AbortSignal): Promise<Task> {
    return this.command(taskId, 'setPriority', async (sql, t) => {
      const [row] = await sql.query<TaskRow>(
        `UPDATE jedi.tasks SET priority = $2, modified_at = now() WHERE task_id = $1 RETURNING *`,
        [taskId, priority],
      );
      await this.server.setJobsPriority({ taskId, priority }, { signal });
      return row ?? t;
    });
  }

  /**
   * Workflow restart: `rerun` inputs run again now, `reset` ones wait for release again, both
   * with fresh user attempts; inputs with a job in flight or finished are left alone.
   */
  restartInputs(taskId: number, rerun: number[], reset: number[]): Promise<Task> {
    return this.command(taskId, 'restart', async (sql, _t) => {
      const open = ['failed', 'missing', 'ready', 'defined'];
      await sql.query(
        `UPDATE jedi.task_inputs SET state = 'defined', failed_attempts = 0, modified_at = now()
         WHERE task_id = $1 AND node_id = ANY($2::bigint[]) AND state = ANY($3::text[])`,
        [taskId, reset, open],
      );
      const again = await sql.query<InputRow>(
        `UPDATE jedi.task_inputs SET state = 'ready', failed_attempts = 0, modified_at = now()
         WHERE task_id = $1 AND node_id = ANY($2::bigint[]) AND state = ANY($3::text[]) RETURNING *`,
        [taskId, rerun, open],
      );
      const [counted] = await sql.query<TaskRow>(
        `UPDATE jedi.tasks SET
           inputs_finished = (SELECT count(*) FROM jedi.task_inputs WHERE task_id = $1 AND state = 'finished'),
           inputs_failed = (SELECT count(*) FROM jedi.task_inputs WHERE task_id = $1 AND state = 'failed'),
           inputs_missing = (SELECT count(*) FROM jedi.task_inputs WHERE task_id = $1 AND state = 'missing'),
           modified_at = now()
         WHERE task_id = $1 RETURNING *`,
        [taskId],
      );
      let task = counted!;
      if (task.state === 'prepared') return task;
      if (taskStates.canMove(task.state, 'toretry')) {
        task = await moveTask(sql, this.outbox, await moveTask(sql, this.outbox, task, 'toretry'), 'ready');
      }
      again.sort((a, b) => Number(a.input_id) - Number(b.input_id));
      return this.generator.generate(
        sql,
        task,
        again.map((input) => ({ input, attemptNr: input.attempt_nr + 1 })),
      );
    });
  }

  /** Inputs with no job yet will never get one: they count as failed. */
  private async failWaitingInputs(sql: Sql, t: TaskRow): Promise<TaskRow> {
    const waiting = await sql.query<InputRow>(
      `SELECT * FROM jedi.task_inputs WHERE task_id = $1 AND state IN ('defined', 'ready') FOR UPDATE`,
      [t.task_id],
    );
    const after = await settleInputs(
      sql,
      this.outbox,
      t,
      waiting.map((input) => ({ input, status: 'failed', pandaId: 0, exitCode: 0 })),
    );
    return closeTaskIfDone(sql, this.outbox, after);
  }

  private async command(
    taskId: number,
    name: keyof typeof ALLOWED,
    run: (sql: Sql, t: TaskRow) => Promise<TaskRow>,
  ): Promise<Task> {
    const row = await this.outbox.tx(async (sql) => {
      const [t] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [
        taskId,
      ]);
      if (!t) throw new NotFoundError('task', taskId);
      const allowed: ReadonlySet<TaskState> = ALLOWED[name];
      if (!allowed.has(t.state)) {
        throw new FailedPreconditionError(
          `task ${taskId} is ${t.state}: ${name} is allowed only when ${[...allowed].join(', ')}`,
        );
      }
      return run(sql, t);
    });
    return toTask(row);
  }
}
