import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MonitorBackends } from '../backends.js';
import { needDb } from '../backends.js';
import { getJob } from '../db/jobs.js';
import { HttpError } from '../http/errors.js';
import { jsonHrefOf, wantsJson } from '../http/negotiate.js';
import { parseId } from '../http/query.js';
import { replySignal } from '../http/signal.js';
import { loadMemoryReport } from '../memory/report.js';
import { renderMemoryPage } from '../views/memory.js';
import { liveKeys, sendHtml } from './reply.js';

const TIMEOUT_MS = 10_000;

/**
 * `/jobs/:id/memory`: the job's memory time series from its log archive, plotted; with `?json`
 * the samples (`time` Unix s, `t` s since the first, sizes in kB) and the status.
 */
export function registerMemoryRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  app.get('/jobs/:id/memory', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const pandaId = parseId(request.params.id, 'PandaID');
    const job = await getJob(needDb(backends), pandaId);
    if (!job) throw new HttpError(404, `job ${pandaId} not found`);
    const memory = await loadMemoryReport(backends.gatewayUrl, job, replySignal(reply, TIMEOUT_MS));
    if (wantsJson(request)) return { pandaId, state: job.state, memoryMb: job.memoryMb, ...memory };
    return sendHtml(
      reply,
      renderMemoryPage(pandaId, job.state, memory, jsonHrefOf(request), liveKeys(backends, `job:${pandaId}`)),
    );
  });
}
