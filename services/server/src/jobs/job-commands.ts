import type { Outbox, Sql } from '@panda/platform';
import type { KilledJob, KillJobsRequest } from '@panda/proto';
import { closeGatesOfTask } from './gate-activation.js';
import { jobChange, jobEvents } from './job-events.js';
import type { JobRow } from './job-row.js';

/** Kill codes that end a job `closed` (ended by the system); every other code means `cancelled`. */
const CLOSING_KILL_CODES = new Set([2, 4, 10, 51, 55, 60]);
/** Force codes end even a running job at once, without waiting for its pilot. */
const FORCE_KILL_CODES = new Set([2, 9, 10, 51, 52, 60, 99]);

export const killStateOf = (code: number): 'cancelled' | 'closed' =>
  CLOSING_KILL_CODES.has(code) ? 'closed' : 'cancelled';

const QUEUED = ['pending', 'defined', 'activated', 'throttled'];
const WITH_PILOT = ['sent', 'starting', 'running', 'holding', 'transferring'];

/** Operator and task-level commands on jobs: kill, reassign, pause/resume, priority. */
export class JobCommands {
  constructor(private readonly outbox: Outbox) {}

  /**
   * Queued jobs end at once; jobs with a pilot get `tobekilled` in the reply to their next
   * heartbeat and end when the pilot reports (or at once for force codes).
   */
  async kill(req: KillJobsRequest): Promise<KilledJob[]> {
    const endState = killStateOf(req.code);
    const force = FORCE_KILL_CODES.has(req.code);
    const diag = `killed (code ${req.code})${req.reason ? `: ${req.reason}` : ''}`.slice(0, 4000);
    const ended = force ? [...QUEUED, ...WITH_PILOT] : QUEUED;
    return this.outbox.tx(async (sql) => {
      const target = `(panda_id = ANY($1::bigint[]) OR ($2::bigint <> 0 AND task_id = $2))`;
      const closed = await this.end(sql, target, [req.pandaIds, req.taskId], ended, endState, 100, diag);
      const flagged =
        force || req.queuedOnly
          ? []
          : await sql.query<JobRow>(
              `UPDATE server.jobs SET command_to_pilot = 'tobekilled', kill_state = $3, modified_at = now()
             WHERE ${target} AND state = ANY($4::text[]) RETURNING *`,
              [req.pandaIds, req.taskId, endState, WITH_PILOT],
            );
      return [...closed, ...flagged].map((r) => ({
        pandaId: Number(r.panda_id),
        state: r.state,
        commandToPilot: r.command_to_pilot,
      }));
    });
  }

  /** Closes queued jobs (code 51) so that jedi generates them again and re-brokers them. */
  async reassign(pandaIds: number[]): Promise<KilledJob[]> {
    return this.outbox.tx(async (sql) => {
      const rows = await this.end(
        sql,
        'panda_id = ANY($1::bigint[])',
        [pandaIds],
        QUEUED,
        'closed',
        105,
        're-brokered',
      );
      return rows.map((r) => ({ pandaId: Number(r.panda_id), state: r.state, commandToPilot: '' }));
    });
  }

  /**
   * Task pause: activated -> throttled, and so are jobs still `defined` behind a gate of the
   * task that is open (the gate closes); resume: throttled -> activated.
   */
  async throttle(taskId: number, pause: boolean): Promise<number> {
    const [from, to] = pause ? ['activated', 'throttled'] : ['throttled', 'activated'];
    return this.outbox.tx(async (sql) => {
      const gated = pause ? await closeGatesOfTask(sql, this.outbox, taskId) : 0;
      const rows = await sql.query<JobRow>(
        `UPDATE server.jobs SET state = $3, state_changed_at = now(), modified_at = now()
         WHERE task_id = $1 AND state = $2 RETURNING *`,
        [taskId, from, to],
      );
      await this.outbox.write(sql, jobEvents(rows.map((r) => jobChange(r, from))));
      return gated + rows.length;
    });
  }

  async setPriority(taskId: number, priority: number): Promise<number> {
    const rows = await this.outbox.tx((sql) =>
      sql.query(
        `UPDATE server.jobs SET priority = $2, modified_at = now()
         WHERE task_id = $1 AND state = ANY($3::text[]) RETURNING panda_id`,
        [taskId, priority, [...QUEUED, ...WITH_PILOT]],
      ),
    );
    return rows.length;
  }

  private async end(
    sql: Sql,
    target: string,
    params: unknown[],
    states: string[],
    to: 'cancelled' | 'closed',
    taskBufferCode: number,
    diag: string,
  ): Promise<JobRow[]> {
    const n = params.length;
    const rows = await sql.query<JobRow & { old_state: string }>(
      `WITH t AS (SELECT panda_id, state AS old_state FROM server.jobs
                  WHERE ${target} AND state = ANY($${n + 1}::text[]) ORDER BY panda_id FOR UPDATE)
       UPDATE server.jobs j SET state = $${n + 2}, state_changed_at = now(), modified_at = now(), end_time = now(),
         command_to_pilot = '', kill_state = $${n + 2},
         errors = j.errors || jsonb_build_array(jsonb_build_object('source', 'taskbuffer', 'code', $${n + 3}::int,
           'diag', $${n + 4}::text))
       FROM t WHERE j.panda_id = t.panda_id RETURNING j.*, t.old_state`,
      [...params, states, to, taskBufferCode, diag],
    );
    await this.outbox.write(sql, jobEvents(rows.map((r) => jobChange(r, r.old_state))));
    return rows;
  }
}
