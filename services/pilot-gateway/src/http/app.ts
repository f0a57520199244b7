import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '@panda/platform';
import { pilotAuth } from '../auth/hook.js';
import { CallLimiter } from '../dispatch/limiter.js';
import type { DispatchClient } from '../dispatch/types.js';
import { UpdateBatcher } from '../dispatch/update-batcher.js';
import { registerLogRoutes } from '../logs/routes.js';
import type { LogStore } from '../logs/store.js';
import { gatewayMetrics } from '../metrics/metrics.js';
import type { QueueWaiters } from '../push/waiters.js';
import { registerPilotRoutes } from './routes.js';

export type { DispatchClient } from '../dispatch/types.js';

export interface GatewayAppOptions {
  dispatch: DispatchClient;
  logger: Logger;
  /** Fastify's own per-request logging; off in tests. */
  logRequests?: boolean;
  /** Real-time logs and archives; log routes answer 503 without it. */
  logStore?: LogStore;
  /** Push mode; without it getJob answers at once. */
  waiters?: QueueWaiters;
  /** Token checking; default: optional tokens, none checked. */
  auth?: { secret?: string; required: boolean };
  limits?: Partial<GatewayLimits>;
  /** Node's process metrics on /metrics (off in tests). */
  processMetrics?: boolean;
}

export interface GatewayLimits {
  logMaxLineChars: number;
  logMaxRecords: number;
  archiveMaxFileBytes: number;
  pushFallbackPollMs: number;
  /** Back-pressure toward the server: calls at once, requests waiting, Retry-After when full. */
  serverMaxInFlight: number;
  serverMaxQueued: number;
  overloadRetryAfterS: number;
  /** updateJob calls are sent in batches of up to this many, or after this window. */
  updateBatchMax: number;
  updateBatchWindowMs: number;
}

const DEFAULT_LIMITS: GatewayLimits = {
  logMaxLineChars: 16_384,
  logMaxRecords: 1000,
  archiveMaxFileBytes: 64 * 1024 ** 2,
  pushFallbackPollMs: 5000,
  serverMaxInFlight: 16,
  serverMaxQueued: 4000,
  overloadRetryAfterS: 2,
  updateBatchMax: 200,
  updateBatchWindowMs: 5,
};

/** The HTTP app with every route; not listening yet. */
export function buildApp(options: GatewayAppOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; typing the instance with the base keeps routes generic.
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: !options.logRequests }),
    bodyLimit: 8 * 1024 * 1024,
    return503OnClosing: true,
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'unhandled error in route');
      return reply.code(500).send({ error: 'internal error' });
    }
    // Fastify's own client errors: bad JSON, empty body, wrong content type, too large.
    if (status === 413) {
      return reply
        .code(413)
        .send({ error: `body: larger than the limit of ${limitOf(request.routeOptions.bodyLimit)}` });
    }
    return reply.code(status).send({ error: `body: ${err.message}` });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.get('/healthz', () => ({ status: 'ok' }));
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const limiter = new CallLimiter({
    maxInFlight: limits.serverMaxInFlight,
    maxQueued: limits.serverMaxQueued,
    retryAfterS: limits.overloadRetryAfterS,
  });
  const metrics = gatewayMetrics({ limiter: () => limiter.state(), processMetrics: options.processMetrics });
  const updates = new UpdateBatcher({
    dispatch: options.dispatch,
    limiter,
    logger: options.logger,
    maxBatch: limits.updateBatchMax,
    windowMs: limits.updateBatchWindowMs,
    onBatch: metrics.batch,
  });
  // Updates already taken are sent before the app is gone.
  app.addHook('onClose', () => updates.close());
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  const auth = pilotAuth(options.auth ?? { required: false });
  registerPilotRoutes(app, {
    dispatch: options.dispatch,
    limiter,
    updates,
    onRejected: metrics.rejected,
    waiters: options.waiters,
    fallbackPollMs: limits.pushFallbackPollMs,
    auth,
  });
  registerLogRoutes(app, {
    store: options.logStore,
    limits: { maxLineChars: limits.logMaxLineChars, maxRecords: limits.logMaxRecords },
    archiveMaxFileBytes: limits.archiveMaxFileBytes,
    auth,
  });
  return app;
}

const limitOf = (bytes: number | undefined) =>
  bytes === undefined ? 'this route' : `${bytes} bytes (${Math.round((bytes / 1024 ** 2) * 10) / 10} MiB)`;
