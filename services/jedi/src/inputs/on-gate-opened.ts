import type { Logger, Sql } from '@panda/platform';
import type { GateOpened, JobServiceClient } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';
import { ACCEPTS_NEW_JOBS, HOLDS_NEW_JOBS } from '../tasks/task-progress.js';

/**
 * idds says a node with staged children finished: their jobs, made ahead and `defined` in
 * server, may run. Per task, one short call there opens the gate (`activated`), or
 * `throttled` while the task is paused (a resume activates them); a task winding down had its
 * jobs killed already. The tasks' rows are locked for those calls, so a pause cannot slip in
 * between reading a state and acting on it; the calls go side by side. Repeats change nothing.
 */
export function onGateOpened(server: JobServiceClient, logger: Logger) {
  return async (sql: Sql, event: GateOpened): Promise<void> => {
    const tasks = await sql.query<TaskRow>(
      `SELECT * FROM jedi.tasks WHERE task_id = ANY($1::bigint[]) ORDER BY task_id FOR UPDATE`,
      [event.taskIds],
    );
    const known = new Set(tasks.map((t) => Number(t.task_id)));
    const unknown = event.taskIds.filter((id) => !known.has(id));
    if (unknown.length)
      throw new Error(`tasks ${unknown.join(', ')} behind gate ${event.gateNodeId} are unknown`);
    await Promise.all(
      tasks.map(async (task) => {
        const run = ACCEPTS_NEW_JOBS.has(task.state);
        if (!run && !HOLDS_NEW_JOBS.has(task.state)) return;
        const started = performance.now();
        const taskId = Number(task.task_id);
        const { changed } = await server.activateJobs({ taskId, gateNodeId: event.gateNodeId, held: !run });
        const ms = Math.round(performance.now() - started);
        logger.info({ taskId, gate: event.gateNodeId, changed, held: !run, ms }, 'staged jobs activated');
      }),
    );
  };
}
