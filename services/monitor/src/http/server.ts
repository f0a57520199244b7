import type { Logger } from '@panda/platform';
import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MonitorBackends } from '../backends.js';
import { registerErrorRoutes } from '../routes/errors-page.js';
import { registerHealthRoutes } from '../routes/health.js';
import { registerInfraRoutes } from '../routes/infra.js';
import { registerJobRoutes } from '../routes/jobs.js';
import { registerLiveRoutes } from '../routes/live.js';
import { registerLogStreamRoutes } from '../routes/log-stream.js';
import { registerMemoryRoutes } from '../routes/memory.js';
import { registerTaskRoutes } from '../routes/tasks.js';
import { registerWorkflowRoutes } from '../routes/workflows.js';
import { renderErrorPage } from '../views/error-page.js';
import { HttpError } from './errors.js';
import { wantsJson } from './negotiate.js';

export interface MonitorServerOptions extends MonitorBackends {
  /** Request and error logs; none when left out (tests). */
  logger?: Logger;
}

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  message: string,
): FastifyReply {
  reply.code(statusCode);
  if (wantsJson(request)) return reply.send({ error: message });
  return reply.type('text/html; charset=utf-8').send(renderErrorPage(statusCode, message));
}

/** Builds the monitor's HTTP app from injected clients; the caller listens and closes it. */
export function buildMonitorServer(options: MonitorServerOptions): FastifyInstance {
  const app: FastifyInstance = fastify({
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    // Our own onResponse hook logs requests at debug: pages refresh every 5 s.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'http request',
    );
  });

  app.setErrorHandler(async (err: unknown, request, reply) => {
    if (err instanceof HttpError) {
      if (err.statusCode >= 500) {
        const cause = err.cause instanceof Error ? err.cause.message : undefined;
        request.log.warn({ url: request.url, status: err.statusCode, cause }, err.message);
      }
      return sendError(request, reply, err.statusCode, err.message);
    }
    const status = (err as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(request, reply, status, (err as Error).message);
    }
    request.log.error({ err, url: request.url }, 'internal error');
    return sendError(request, reply, 500, 'internal error');
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(request, reply, 404, `no page at ${request.url.split('?')[0] ?? '/'}`),
  );

  registerHealthRoutes(app);
  registerWorkflowRoutes(app, options);
  registerTaskRoutes(app, options);
  registerJobRoutes(app, options);
  registerMemoryRoutes(app, options);
  registerLogStreamRoutes(app, options);
  registerErrorRoutes(app, options);
  registerInfraRoutes(app, options);
  registerLiveRoutes(app, options);
  return app;
}
