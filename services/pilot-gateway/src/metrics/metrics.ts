import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LimiterState } from '../dispatch/limiter.js';

export interface GatewayMetrics {
  registry: Registry;
  /** A batch of updates was sent to the server. */
  batch(size: number, outcome: 'ok' | 'error'): void;
  /** A request was refused because too much already waits for the server. */
  rejected(route: string): void;
}

export interface GatewayMetricsOptions {
  /** The limiter's state, read at each scrape. */
  limiter: () => LimiterState;
  /** Node's process metrics (off in tests, which build many apps in one process). */
  processMetrics?: boolean;
}

const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * The gateway's Prometheus metrics: calls to the server in flight and requests queued for
 * one (read from the limiter at each scrape), requests refused with 503 by route, and the
 * sizes of the update batches.
 */
export function gatewayMetrics(o: GatewayMetricsOptions): GatewayMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'panda_gateway_server_calls_in_flight',
    help: 'Calls to the server (getJob asks, update batches, bulk calls) running now',
    registers: [registry],
    collect() {
      this.set(o.limiter().inFlight);
    },
  });
  new Gauge({
    name: 'panda_gateway_server_queued_requests',
    help: 'Pilot requests admitted and waiting for a call to the server (or for their update batch)',
    registers: [registry],
    collect() {
      this.set(o.limiter().queued);
    },
  });
  const rejections = new Counter({
    name: 'panda_gateway_overload_rejections_total',
    help: 'Pilot requests refused with 503 and Retry-After because the queue toward the server was full',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'panda_gateway_update_batch_size',
    help: 'Pilot updates per UpdateJobs call to the server',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const batches = new Counter({
    name: 'panda_gateway_update_batches_total',
    help: 'UpdateJobs batches sent to the server, by outcome (ok, error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  if (o.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'panda_gateway_' });
  return {
    registry,
    batch: (size, outcome) => {
      batchSize.observe(size);
      batches.inc({ outcome });
    },
    rejected: (route) => rejections.inc({ route }),
  };
}
