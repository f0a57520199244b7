import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { MonitorBackends } from '../backends.js';
import { needDb } from '../backends.js';
import { errorSummary } from '../db/errors.js';
import { jsonHrefOf, wantsJson } from '../http/negotiate.js';
import { limitParam, optInt, optText, parseQuery } from '../http/query.js';
import { renderErrors } from '../views/errors.js';
import { sendHtml } from './reply.js';

const schema = z.object({
  days: limitParam(7, 3650),
  queue: optText(),
  taskId: optInt(),
  workflowId: optInt(),
  user: optText(),
  // The most recent 10 000 errored jobs by default (bigmon's job limit): a wide window over a
  // busy system otherwise reads and unpacks every error pair it holds (seconds at 100 000).
  limit: limitParam(10_000, 1_000_000),
});

/** `/errors`: top error codes overall and by queue, task and user, over a time window. */
export function registerErrorRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  app.get('/errors', async (request, reply) => {
    const f = parseQuery(schema, request.query);
    const [summary, codes] = await Promise.all([
      errorSummary(needDb(backends), f),
      backends.catalogue?.lookup() ?? Promise.resolve(new Map()),
    ]);
    if (wantsJson(request)) {
      const describe = <T extends { source: string; code: number }>(r: T) => {
        const info = codes.get(`${r.source}:${r.code}`);
        return { ...r, description: info?.shortDesc ?? '', category: info?.category ?? '' };
      };
      return {
        filters: f,
        jobs: summary.jobs,
        overall: summary.overall.map(describe),
        byQueue: summary.byQueue.map(describe),
        byTask: summary.byTask.map(describe),
        byUser: summary.byUser.map(describe),
      };
    }
    return sendHtml(reply, renderErrors(summary, f, codes, jsonHrefOf(request)));
  });
}
