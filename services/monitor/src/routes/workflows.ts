import { workflowToJson } from '@panda/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MonitorBackends } from '../backends.js';
import { tasksOfWorkflow } from '../db/tasks.js';
import type { TaskJson } from '../db/tasks.js';
import { labelEdges, listWorkflowRows } from '../db/workflows.js';
import type { LabelEdge } from '../db/workflows.js';
import { fromGrpcError } from '../http/errors.js';
import { jsonHrefOf, wantsJson } from '../http/negotiate.js';
import { optInt, optText, parseId, parseQuery } from '../http/query.js';
import { renderWorkflowDetail } from '../views/workflow-detail.js';
import { renderWorkflowList } from '../views/workflow-list.js';
import { liveKeys, sendHtml } from './reply.js';

const listQuerySchema = z.object({
  user: optText(),
  state: optText(),
  campaign: optText(),
  days: optInt(36500),
  before: optInt(),
  limit: z
    .union([z.literal(''), z.coerce.number().int().min(0).max(100_000)])
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
});

/** A workflow's label graph never changes after submission: keep the last few hundred. */
class EdgeCache {
  private readonly map = new Map<number, LabelEdge[]>();
  async get(id: number, load: () => Promise<LabelEdge[]>): Promise<LabelEdge[]> {
    const hit = this.map.get(id);
    if (hit) return hit;
    const edges = await load();
    if (this.map.size >= 500) this.map.delete(this.map.keys().next().value ?? id);
    this.map.set(id, edges);
    return edges;
  }
}

/** `/`, `/workflows` and `/workflows/:id`, each as an HTML page or JSON. */
export function registerWorkflowRoutes(app: FastifyInstance, backends: MonitorBackends): void {
  const { idds } = backends;
  const grpc = { service: 'idds', address: idds.address };
  const edges = new EdgeCache();

  app.get('/', async (request, reply) => {
    const qs = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return reply.redirect(`/workflows${qs}`);
  });

  app.get('/workflows', async (request: FastifyRequest, reply) => {
    const filters = parseQuery(listQuerySchema, request.query);
    const live = liveKeys(backends, 'workflows');
    if (backends.db) {
      const { workflows, next } = await listWorkflowRows(backends.db, {
        ...filters,
        limit: filters.limit || 100,
      });
      if (wantsJson(request)) return { workflows, next };
      return sendHtml(reply, renderWorkflowList(workflows, filters, jsonHrefOf(request), { next, live }));
    }
    const response = await idds.client
      .listWorkflows({ user: filters.user ?? '', state: filters.state ?? '', limit: filters.limit ?? 0 })
      .catch((err: unknown) => {
        throw fromGrpcError(err, grpc);
      });
    const workflows = response.workflows.map(workflowToJson);
    if (wantsJson(request)) return { workflows };
    return sendHtml(reply, renderWorkflowList(workflows, filters, jsonHrefOf(request), { next: null, live }));
  });

  app.get('/workflows/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const workflowId = parseId(request.params.id, 'workflow id');
    const db = backends.db;
    const [report, tasks, dag] = await Promise.all([
      idds.client.getReport({ workflowId }).catch((err: unknown) => {
        throw fromGrpcError(err, { ...grpc, notFound: `workflow ${workflowId} not found` });
      }),
      db ? tasksOfWorkflow(db, workflowId) : Promise.resolve<TaskJson[] | null>(null),
      db
        ? edges.get(workflowId, () => labelEdges(db, workflowId))
        : Promise.resolve<LabelEdge[] | null>(null),
    ]);
    if (wantsJson(request)) {
      return {
        workflow: report.workflow ? workflowToJson(report.workflow) : null,
        rows: report.rows,
        total: report.total ?? null,
        ...(tasks ? { tasks } : {}),
        ...(dag ? { dag } : {}),
      };
    }
    return sendHtml(
      reply,
      renderWorkflowDetail(report, jsonHrefOf(request), {
        tasks,
        dag,
        live: liveKeys(backends, `workflow:${workflowId}`),
      }),
    );
  });
}
