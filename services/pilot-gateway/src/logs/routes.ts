import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import type { PilotLogBatch } from '@panda/proto';
import { describeIssue } from '../http/schemas.js';
import { archiveName, checkLogLimits, logBatchBody, LogTooLargeError, pandaIdParam } from './schemas.js';
import type { LogLimits } from './schemas.js';
import type { LogStore } from './store.js';

export interface LogRoutesOptions {
  /** Undefined when the gateway has no NATS: every log route answers 503. */
  store: LogStore | undefined;
  limits: LogLimits;
  archiveMaxFileBytes: number;
  /** Token check of the pilot-facing routes. */
  auth: preHandlerAsyncHookHandler;
}

/** One NDJSON line per record, with its job. */
export function recordLines(batch: PilotLogBatch): string {
  return batch.records
    .map((r) =>
      JSON.stringify({
        pandaId: batch.pandaId,
        taskId: batch.taskId,
        workerId: batch.workerId,
        queue: batch.queue,
        pilotTime: r.pilotTime?.toISOString() ?? null,
        source: r.source,
        severity: r.severity,
        message: r.message,
        ...(r.logger ? { logger: r.logger } : {}),
        ...(Object.keys(r.mdc).length > 0 ? { mdc: r.mdc } : {}),
        ...(Object.keys(r.fields).length > 0 ? { fields: r.fields } : {}),
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

const noStore = (reply: FastifyReply) =>
  reply.code(503).send({ error: 'logs are not available: the gateway has no NATS (PANDA_NATS_URL)' });

/**
 * `POST /logs/v1/records` (pilot), `GET /logs/v1/jobs/:pandaId[?follow=1]` (NDJSON),
 * `PUT|GET /logs/v1/jobs/:pandaId/archive/:name`, `GET /logs/v1/jobs/:pandaId/archive`.
 */
export function registerLogRoutes(app: FastifyInstance, o: LogRoutesOptions): void {
  const schema = logBatchBody();

  app.post('/logs/v1/records', { preHandler: o.auth }, async (request, reply) => {
    const parsed = schema.safeParse(request.body ?? {});
    if (!parsed.success) return reply.code(400).send({ error: describeIssue(parsed.error) });
    try {
      checkLogLimits(parsed.data, o.limits);
    } catch (err) {
      if (err instanceof LogTooLargeError) return reply.code(413).send({ error: err.message });
      throw err;
    }
    if (!o.store) return noStore(reply);
    const body = parsed.data;
    await o.store.publish({
      ...body,
      records: body.records.map((r) => ({
        ...r,
        pilotTime: new Date(r.pilotTime),
        logger: r.logger ?? '',
        mdc: r.mdc ?? {},
        fields: r.fields ?? {},
      })),
      receivedAt: new Date(),
    });
    return { accepted: body.records.length };
  });

  app.get<{ Params: { pandaId: string }; Querystring: { follow?: string } }>(
    '/logs/v1/jobs/:pandaId',
    async (request, reply) => {
      const pandaId = pandaIdParam.safeParse(request.params.pandaId);
      if (!pandaId.success) return reply.code(400).send({ error: 'pandaId: must be a positive integer' });
      if (!o.store) return noStore(reply);
      const follow = ['1', 'true', ''].includes(request.query.follow ?? 'no');
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const batches = o.store.read(pandaId.data, follow, gone.signal);
      async function* lines() {
        for await (const batch of batches) {
          const text = recordLines(batch);
          if (text) yield text;
        }
      }
      return reply.type('application/x-ndjson').send(Readable.from(lines()));
    },
  );

  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: o.archiveMaxFileBytes },
    (_request, body, done) => done(null, body),
  );

  app.put<{ Params: { pandaId: string; name: string } }>(
    '/logs/v1/jobs/:pandaId/archive/:name',
    { preHandler: o.auth, bodyLimit: o.archiveMaxFileBytes },
    async (request, reply) => {
      const pandaId = pandaIdParam.safeParse(request.params.pandaId);
      if (!pandaId.success) return reply.code(400).send({ error: 'pandaId: must be a positive integer' });
      const name = archiveName.safeParse(request.params.name);
      if (!name.success) return reply.code(400).send({ error: `name: ${name.error.issues[0]?.message}` });
      if (!Buffer.isBuffer(request.body)) {
        return reply.code(415).send({ error: 'body: send the file as application/octet-stream' });
      }
      if (!o.store) return noStore(reply);
      return o.store.putArchive(pandaId.data, name.data, request.body);
    },
  );

  app.get<{ Params: { pandaId: string } }>('/logs/v1/jobs/:pandaId/archive', async (request, reply) => {
    const pandaId = pandaIdParam.safeParse(request.params.pandaId);
    if (!pandaId.success) return reply.code(400).send({ error: 'pandaId: must be a positive integer' });
    if (!o.store) return noStore(reply);
    return { pandaId: pandaId.data, files: await o.store.listArchive(pandaId.data) };
  });

  app.get<{ Params: { pandaId: string; name: string } }>(
    '/logs/v1/jobs/:pandaId/archive/:name',
    async (request, reply) => {
      const pandaId = pandaIdParam.safeParse(request.params.pandaId);
      const name = archiveName.safeParse(request.params.name);
      if (!pandaId.success || !name.success) return reply.code(400).send({ error: 'bad pandaId or name' });
      if (!o.store) return noStore(reply);
      const content = await o.store.getArchive(pandaId.data, name.data);
      if (!content)
        return reply.code(404).send({ error: `no archive file ${name.data} for job ${pandaId.data}` });
      return reply.type('application/octet-stream').send(Buffer.from(content));
    },
  );
}
