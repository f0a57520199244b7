import { InvalidArgumentError, NotFoundError } from '@panda/platform';
import type { Sql } from '@panda/platform';
import type { Job, JobStateCount, ListJobsRequest, TaskExitCodeCount } from '@panda/proto';
import type { JobRow } from './job-row.js';
import { toJob } from './job-row.js';
import { jobStates } from './job-state.js';

/** Read side of the job table: bounded, indexed queries only. */
export class JobQueries {
  constructor(private readonly sql: Sql) {}

  async get(pandaId: number): Promise<Job> {
    const [row] = await this.sql.query<JobRow>(`SELECT * FROM server.jobs WHERE panda_id = $1`, [pandaId]);
    if (!row) throw new NotFoundError('job', pandaId);
    return toJob(row);
  }

  async list(req: ListJobsRequest): Promise<Job[]> {
    if (req.state && !jobStates.isState(req.state)) {
      throw new InvalidArgumentError('state', `unknown job state '${req.state}'`);
    }
    const limit = Math.min(req.limit > 0 ? req.limit : 100, 10_000);
    const rows = await this.sql.query<JobRow>(
      `SELECT * FROM server.jobs
       WHERE ($1::bigint = 0 OR workflow_id = $1) AND ($2::bigint = 0 OR task_id = $2)
         AND ($3 = '' OR state = $3) AND ($4 = '' OR queue = $4) AND panda_id > $5
       ORDER BY panda_id LIMIT $6`,
      [req.workflowId, req.taskId, req.state, req.queue, req.afterPandaId, limit],
    );
    return rows.map(toJob);
  }

  async countByTaskAndState(taskIds: number[]): Promise<JobStateCount[]> {
    if (taskIds.length === 0) return [];
    const rows = await this.sql.query<{ task_id: string; state: string; n: number }>(
      `SELECT task_id, state, count(*)::int AS n FROM server.jobs
       WHERE task_id = ANY($1::bigint[]) GROUP BY task_id, state ORDER BY task_id, state`,
      [taskIds],
    );
    return rows.map((r) => ({ taskId: Number(r.task_id), state: r.state, count: r.n }));
  }

  async exitCodesByTask(taskIds: number[]): Promise<TaskExitCodeCount[]> {
    if (taskIds.length === 0) return [];
    const rows = await this.sql.query<{ task_id: string; exit_code: number; n: number }>(
      `SELECT task_id, exit_code, count(*)::int AS n FROM server.jobs
       WHERE task_id = ANY($1::bigint[]) AND state = 'failed' AND exit_code <> 0
       GROUP BY task_id, exit_code ORDER BY task_id, exit_code`,
      [taskIds],
    );
    return rows.map((r) => ({ taskId: Number(r.task_id), exitCode: r.exit_code, count: r.n }));
  }

  async queueStats(queues: string[]): Promise<Map<string, Record<string, number>>> {
    const rows = await this.sql.query<{ queue: string; state: string; n: number }>(
      `SELECT queue, state, count(*)::int AS n FROM server.jobs
       WHERE state IN ('activated','throttled','sent','starting','running','holding') AND queue = ANY($1::text[])
       GROUP BY queue, state`,
      [queues],
    );
    const stats = new Map<string, Record<string, number>>();
    for (const r of rows) {
      const s = stats.get(r.queue) ?? {};
      s[r.state] = r.n;
      stats.set(r.queue, s);
    }
    return stats;
  }
}
