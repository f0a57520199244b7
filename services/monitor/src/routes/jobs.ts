import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MonitorBackends } from '../backends.js';
import { needDb } from '../backends.js';
import { attemptsOf, getJob, JOB_STATES, listJobs } from '../db/jobs.js';
import { HttpError } from '../http/errors.js';
import { jsonHrefOf, wantsJson } from '../http/negotiate.js';
import { flag, limitParam, optInt, optText, parseId, parseQuery } from '../http/query.js';
import { replySignal } from '../http/signal.js';
import { loadMemoryReport } from '../memory/report.js';
import { renderJobDetail, renderJobList } from '../views/jobs.js';
import { renderLogPage, renderLogTailPage } from '../views/log.js';
import { fetchArchiveFile, fetchLog } from './log-fetch.js';
import { liveKeys, sendHtml } from './reply.js';

/** The job page waits this long for the memory series before it says the log service is slow. */
const MEMORY_TIMEOUT_MS = 3_000;

const KNOWN_STATES: ReadonlySet<string> = new Set(JOB_STATES);

const listSchema = z.object({
  workflowId: optInt(),
  taskId: optInt(),
  state: optText().refine(
    (s) => !s || s.split(/[,|]/).every((x) => KNOWN_STATES.has(x.trim())),
    `expected job states (${JOB_STATES.join(', ')}), comma-separated`,
  ),
  queue: optText(),
  errorCode: optInt(),
  attempt: optInt(),
  workerId: optText(),
  drop: flag(),
  before: optInt(),
  limit: limitParam(100, 1000),
});

/** `/jobs` (filters as query parameters, keyset pages), `/jobs/:id`, `/jobs/:id/log`. */
export function registerJobRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  app.get('/jobs', async (request, reply) => {
    const q = parseQuery(listSchema, request.query);
    const states = q.state?.split(/[,|]/).map((s) => s.trim());
    const { jobs, next } = await listJobs(needDb(backends), { ...q, states });
    if (wantsJson(request)) return { jobs, next };
    const { before: _before, ...shown } = q;
    return sendHtml(reply, renderJobList(jobs, shown, next, jsonHrefOf(request), liveKeys(backends, 'jobs')));
  });

  app.get('/jobs/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const pandaId = parseId(request.params.id, 'PandaID');
    const sql = needDb(backends);
    const job = await getJob(sql, pandaId);
    if (!job) throw new HttpError(404, `job ${pandaId} not found`);
    const [attempts, codes] = await Promise.all([
      attemptsOf(sql, job.inputId),
      backends.catalogue?.lookup() ?? Promise.resolve(new Map()),
    ]);
    const logs = backends.gatewayUrl
      ? { tail: `/jobs/${pandaId}/log`, archive: `/jobs/${pandaId}/log?archive=1` }
      : null;
    const memorySeries = `/jobs/${pandaId}/memory?json`;
    if (wantsJson(request)) {
      const described = job.errors.map((e) => {
        const info = codes.get(`${e.source}:${e.code}`);
        return {
          ...e,
          name: info?.name ?? '',
          description: info?.shortDesc ?? '',
          category: info?.category ?? '',
        };
      });
      return { job: { ...job, errors: described }, attempts, logs, memorySeries };
    }
    const series = await loadMemoryReport(backends.gatewayUrl, job, replySignal(reply, MEMORY_TIMEOUT_MS));
    return sendHtml(
      reply,
      renderJobDetail(
        { job, attempts, logs, memory: series },
        codes,
        jsonHrefOf(request),
        liveKeys(backends, `job:${pandaId}`),
      ),
    );
  });

  app.get(
    '/jobs/:id/log',
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: { archive?: string } }>, reply) => {
      const pandaId = parseId(request.params.id, 'PandaID');
      const archive = request.query.archive !== undefined;
      // Browsers get the live tail when the monitor reads the log stream; JSON is the gateway's copy.
      if (!archive && backends.logs && !wantsJson(request))
        return sendHtml(reply, renderLogTailPage(pandaId));
      const log = await fetchLog(backends.gatewayUrl, pandaId, archive);
      if (wantsJson(request)) return { pandaId, archive, ...log };
      return sendHtml(reply, renderLogPage(pandaId, archive, log));
    },
  );

  app.get(
    '/jobs/:id/log/archive/:name',
    async (request: FastifyRequest<{ Params: { id: string; name: string } }>, reply) => {
      const pandaId = parseId(request.params.id, 'PandaID');
      const file = await fetchArchiveFile(backends.gatewayUrl, pandaId, request.params.name);
      if (!file) throw new HttpError(404, `no archive file ${request.params.name} for job ${pandaId}`);
      // Served as plain text so that a browser shows it and never runs it.
      return reply.type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(file);
    },
  );
}
