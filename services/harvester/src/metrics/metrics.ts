import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { WorkerState } from '../workers/states.js';
import type { WorkerStore } from '../workers/store.js';

/** Where the worker counts come from (the store; tests pass a fake). */
export type WorkerCounts = Pick<WorkerStore, 'countsByQueueAndState'>;

export interface HarvesterMetrics {
  registry: Registry;
  /** One harvester cycle ended: `ok` or `error`. */
  cycle(outcome: 'ok' | 'error'): void;
  /** Workers submitted to a queue, and how the submission went. */
  submitted(queue: string, outcome: 'submitted' | 'failed', n?: number): void;
}

/**
 * Harvester's Prometheus metrics: `panda_harvester_workers{queue,state}` (read from the workers
 * table at each scrape, so it survives restarts and counts every state), submissions and cycles
 * as counters, and Node's process metrics.
 */
export function harvesterMetrics(counts: WorkerCounts): HarvesterMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'panda_harvester_workers',
    help: 'Workers by queue and state (final states: every worker that ended so)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows: { queue: string; state: WorkerState; count: number }[] =
        await counts.countsByQueueAndState();
      this.reset();
      for (const r of rows) this.set({ queue: r.queue, state: r.state }, r.count);
    },
  });
  const submissions = new Counter({
    name: 'panda_harvester_worker_submissions_total',
    help: 'Worker submissions by queue and outcome (submitted, failed)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const cycles = new Counter({
    name: 'panda_harvester_cycles_total',
    help: 'Harvester cycles by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  collectDefaultMetrics({ register: registry, prefix: 'panda_harvester_' });
  return {
    registry,
    cycle: (outcome) => cycles.inc({ outcome }),
    submitted: (queue, outcome, n = 1) => submissions.inc({ queue, outcome }, n),
  };
}

/** `GET /metrics` in the Prometheus text format; anything else is 404. */
export async function startMetricsServer(o: {
  host: string;
  port: number;
  registry: Registry;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: GET /metrics\n');
      return;
    }
    o.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': o.registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics failed: ${(err as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
