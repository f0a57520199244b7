import type { Outbox, Sql } from '@panda/platform';
import type { InputsPruned, JobServiceClient } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';
import { closeTaskIfDone } from '../tasks/task-progress.js';

/** Kill code 55 (the original's "task done"): the job ends `closed`, never having run. */
const KILL_NOT_NEEDED = 55;

/**
 * idds pruned some inputs (a parent finally failed): they will never be released. Mark them
 * missing, count them, and close the task if nothing else is left. A staged input already
 * has its job, waiting `defined` for that parent: the job is closed.
 */
export function onInputsPruned(outbox: Outbox, server: JobServiceClient) {
  return async (sql: Sql, event: InputsPruned): Promise<void> => {
    const [task] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [
      event.taskId,
    ]);
    if (!task) throw new Error(`task ${event.taskId} of pruned inputs is unknown`);
    const rows = await sql.query<{ was: string; panda_id: string | null }>(
      `WITH t AS (SELECT input_id, state AS was, panda_id FROM jedi.task_inputs
                  WHERE task_id = $1 AND node_id = ANY($2::bigint[]) AND state IN ('defined', 'ready', 'picked')
                  ORDER BY input_id FOR UPDATE)
       UPDATE jedi.task_inputs i SET state = 'missing', modified_at = now() FROM t
       WHERE i.input_id = t.input_id RETURNING t.was, t.panda_id`,
      [event.taskId, event.nodeIds],
    );
    if (rows.length === 0) return;
    const staged = rows
      .filter((r) => r.was === 'picked' && r.panda_id !== null)
      .map((r) => Number(r.panda_id));
    if (staged.length) {
      await server.killJobs({
        pandaIds: staged,
        taskId: 0,
        code: KILL_NOT_NEEDED,
        reason: 'pruned: a parent finally failed',
        queuedOnly: true,
      });
    }
    const [counted] = await sql.query<TaskRow>(
      `UPDATE jedi.tasks SET inputs_missing = inputs_missing + $2, modified_at = now() WHERE task_id = $1 RETURNING *`,
      [event.taskId, rows.length],
    );
    await closeTaskIfDone(sql, outbox, counted!);
  };
}
