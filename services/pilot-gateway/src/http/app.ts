import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '@panda/platform';
import type { DispatchServiceClient } from '@panda/proto';
import { registerPilotRoutes } from './routes.js';

/** The part of server's DispatchService the gateway calls (tests pass a fake). */
export type DispatchClient = Pick<DispatchServiceClient, 'acquireJobs' | 'updateJobs'>;

export interface GatewayAppOptions {
  dispatch: DispatchClient;
  logger: Logger;
  /** Fastify's own per-request logging; off in tests. */
  logRequests?: boolean;
}

/** The HTTP app with every route; not listening yet. */
export function buildApp(options: GatewayAppOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; typing the instance with the base keeps routes generic.
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'unhandled error in route');
      return reply.code(500).send({ error: 'internal error' });
    }
    // Fastify's own client errors: bad JSON, empty body, wrong content type, too large.
    return reply.code(status).send({ error: `body: ${err.message}` });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.get('/healthz', () => ({ status: 'ok' }));
  registerPilotRoutes(app, options.dispatch);
  return app;
}
