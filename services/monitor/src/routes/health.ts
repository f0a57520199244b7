import type { FastifyInstance } from 'fastify';

/** `GET /healthz`: the process is up and serving. */
export function registerHealthRoutes(app: FastifyInstance): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
}
