import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MonitorBackends } from '../backends.js';
import { needDb } from '../backends.js';
import { errorSummary } from '../db/errors.js';
import { jobStatesOfTask } from '../db/jobs.js';
import { getTask, inputStatesOfTask, taskDistribution } from '../db/tasks.js';
import { HttpError } from '../http/errors.js';
import { jsonHrefOf, wantsJson } from '../http/negotiate.js';
import { parseId } from '../http/query.js';
import { renderTaskDetail } from '../views/task-detail.js';
import { liveKeys, sendHtml } from './reply.js';

/** `/tasks/:id`: the task, its jobs by state, memory and duration distributions, errors. */
export function registerTaskRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  app.get('/tasks/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const taskId = parseId(request.params.id, 'task id');
    const sql = needDb(backends);
    const task = await getTask(sql, taskId);
    if (!task) throw new HttpError(404, `task ${taskId} not found`);
    const [jobStates, inputStates, maxPss, duration, errors, codes] = await Promise.all([
      jobStatesOfTask(sql, taskId),
      inputStatesOfTask(sql, taskId),
      taskDistribution(sql, taskId, 'maxPss'),
      taskDistribution(sql, taskId, 'duration'),
      errorSummary(sql, { days: 36500, taskId, limit: 100_000 }),
      backends.catalogue?.lookup() ?? Promise.resolve(new Map()),
    ]);
    const page = { task, jobStates, inputStates, maxPss, duration, errors };
    if (wantsJson(request)) return { ...page, errors: errors.overall };
    return sendHtml(
      reply,
      renderTaskDetail(page, codes, jsonHrefOf(request), liveKeys(backends, `task:${taskId}`)),
    );
  });
}
