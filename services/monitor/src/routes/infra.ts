import type { Queue } from '@panda/proto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MonitorBackends } from '../backends.js';
import { needDb } from '../backends.js';
import { activeJobsByQueue, getWorker, listWorkers, workersByQueue } from '../db/infra.js';
import { listJobs } from '../db/jobs.js';
import { fromGrpcError, HttpError } from '../http/errors.js';
import { jsonHrefOf, wantsJson } from '../http/negotiate.js';
import { limitParam, optText, parseQuery } from '../http/query.js';
import { queueRows, renderQueues, renderWorker, renderWorkers } from '../views/infra.js';
import { liveKeys, sendHtml } from './reply.js';

const queueSchema = z.object({ queue: optText() });
const workerSchema = z.object({
  queue: optText(),
  state: optText(),
  before: optText().refine((v) => !v || !Number.isNaN(Date.parse(v)), 'expected an ISO time'),
  limit: limitParam(100, 1000),
});

/** `/queues` (catalogue from server, counts from the tables), `/workers`, `/workers/:id`. */
export function registerInfraRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  app.get('/queues', async (request, reply) => {
    const { queue } = parseQuery(queueSchema, request.query);
    const sql = needDb(backends);
    const listing: Promise<Queue[]> = backends.queues
      ? backends.queues.client.listQueues({}).then(
          (r) => r.queues,
          (err: unknown) => {
            throw fromGrpcError(err, { service: 'server', address: backends.queues?.address ?? '' });
          },
        )
      : Promise.resolve([]);
    const [queues, jobs, workers] = await Promise.all([listing, activeJobsByQueue(sql), workersByQueue(sql)]);
    const rows = queueRows(queues, jobs, workers).filter((r) => !queue || r.name === queue);
    if (wantsJson(request)) return { queues: rows };
    return sendHtml(
      reply,
      renderQueues(rows, queue, jsonHrefOf(request), liveKeys(backends, 'jobs', 'workers')),
    );
  });

  app.get('/workers', async (request, reply) => {
    const q = parseQuery(workerSchema, request.query);
    const { workers, next } = await listWorkers(needDb(backends), q);
    if (wantsJson(request)) return { workers, next };
    const { before: _before, ...shown } = q;
    return sendHtml(
      reply,
      renderWorkers(workers, shown, next, jsonHrefOf(request), liveKeys(backends, 'workers')),
    );
  });

  app.get('/workers/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const workerId = request.params.id;
    if (workerId.length > 200) throw new HttpError(400, 'invalid worker id');
    const sql = needDb(backends);
    const worker = await getWorker(sql, workerId);
    if (!worker) throw new HttpError(404, `worker ${workerId} not found`);
    const { jobs } = await listJobs(sql, { workerId, limit: 200 });
    if (wantsJson(request)) return { worker, jobs };
    return sendHtml(
      reply,
      renderWorker(worker, jobs, jsonHrefOf(request), liveKeys(backends, `worker:${workerId}`)),
    );
  });
}
