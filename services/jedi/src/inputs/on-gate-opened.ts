import type { Logger, Sql } from '@panda/platform';
import type { GateOpened, JobServiceClient } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';
import { ACCEPTS_NEW_JOBS, HOLDS_NEW_JOBS } from '../tasks/task-progress.js';

/**
 * idds says a node with staged children finished: their jobs, made ahead and `defined` in
 * server, may run. Per task, in one statement there: `activated`, or `throttled` while the
 * task is paused (a resume activates them). A task winding down had its jobs killed already.
 * Repeats change nothing.
 */
export function onGateOpened(server: JobServiceClient, logger: Logger) {
  return async (sql: Sql, event: GateOpened): Promise<void> => {
    for (const taskId of event.taskIds) {
      const [task] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [
        taskId,
      ]);
      if (!task) throw new Error(`task ${taskId} behind gate ${event.gateNodeId} is unknown`);
      const run = ACCEPTS_NEW_JOBS.has(task.state);
      if (!run && !HOLDS_NEW_JOBS.has(task.state)) continue;
      const started = performance.now();
      const { changed } = await server.activateJobs({ taskId, gateNodeId: event.gateNodeId, held: !run });
      const ms = Math.round(performance.now() - started);
      logger.info({ taskId, gate: event.gateNodeId, changed, held: !run, ms }, 'staged jobs activated');
    }
  };
}
