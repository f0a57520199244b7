import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { fromGrpcError, HttpError } from '../http/errors.js';
import { jsonHrefOf, wantsJson } from '../http/negotiate.js';
import { workflowToJson } from '../idds/workflows.js';
import type { IddsBackend } from '../idds/workflows.js';
import { renderWorkflowDetail } from '../views/workflow-detail.js';
import { renderWorkflowList } from '../views/workflow-list.js';

const listQuerySchema = z.object({
  user: z.string().trim().optional(),
  state: z.string().trim().optional(),
  limit: z
    .union([z.literal(''), z.coerce.number().int().min(0).max(100_000)])
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
});

const idSchema = z
  .string()
  .regex(/^\d{1,15}$/)
  .transform(Number)
  .refine((n) => n > 0);

function parseQuery(query: unknown): z.infer<typeof listQuerySchema> {
  const result = listQuerySchema.safeParse(query);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(
      400,
      `invalid query parameter ${String(issue?.path[0] ?? '')}: ${issue?.message ?? ''}`,
    );
  }
  return result.data;
}

function sendHtml(reply: FastifyReply, page: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(page);
}

/** `/`, `/workflows` and `/workflows/:id`, each as an HTML page or JSON. */
export function registerWorkflowRoutes(app: FastifyInstance, idds: IddsBackend): void {
  const grpc = { service: 'idds', address: idds.address };

  app.get('/', async (request, reply) => {
    const qs = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    return reply.redirect(`/workflows${qs}`);
  });

  app.get('/workflows', async (request: FastifyRequest, reply) => {
    const filters = parseQuery(request.query);
    const response = await idds.client
      .listWorkflows({ user: filters.user ?? '', state: filters.state ?? '', limit: filters.limit ?? 0 })
      .catch((err: unknown) => {
        throw fromGrpcError(err, grpc);
      });
    if (wantsJson(request)) return { workflows: response.workflows.map(workflowToJson) };
    return sendHtml(reply, renderWorkflowList(response.workflows, filters, jsonHrefOf(request)));
  });

  app.get('/workflows/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const parsed = idSchema.safeParse(request.params.id);
    if (!parsed.success) throw new HttpError(400, `invalid workflow id '${request.params.id}'`);
    const workflowId = parsed.data;
    const report = await idds.client.getReport({ workflowId }).catch((err: unknown) => {
      throw fromGrpcError(err, { ...grpc, notFound: `workflow ${workflowId} not found` });
    });
    if (wantsJson(request)) {
      return {
        workflow: report.workflow ? workflowToJson(report.workflow) : null,
        rows: report.rows,
        total: report.total ?? null,
      };
    }
    return sendHtml(reply, renderWorkflowDetail(report, jsonHrefOf(request)));
  });
}
