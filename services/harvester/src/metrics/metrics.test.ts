import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerState } from '../workers/states.js';
import { harvesterMetrics, startMetricsServer } from './metrics.js';

type Row = { queue: string; state: WorkerState; count: number };

let server: { port: number; close(): Promise<void> } | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const scrape = async (path = '/metrics') => {
  const res = await fetch(`http://127.0.0.1:${server!.port}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};
const workerLines = (text: string) =>
  text.split('\n').filter((l) => l.startsWith('panda_harvester_workers{'));

describe('harvester metrics on /metrics', () => {
  it('serves workers by queue and state as the store counts them at each scrape', async () => {
    // given a store with workers on two queues, and the metrics server on a free port
    let rows: Row[] = [
      { queue: 'SLAC_Rubin', state: 'running', count: 2 },
      { queue: 'SLAC_Rubin', state: 'finished', count: 5 },
      { queue: 'SLAC_Rubin_Slurm', state: 'submitted', count: 1 },
    ];
    const metrics = harvesterMetrics({ countsByQueueAndState: async () => rows });
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry });

    // when it is scraped
    const first = await scrape();

    // then each queue and state has its gauge, in the Prometheus text format
    expect(first.status).toBe(200);
    expect(first.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(first.text).toContain('# TYPE panda_harvester_workers gauge');
    expect(workerLines(first.text).sort()).toEqual([
      'panda_harvester_workers{queue="SLAC_Rubin",state="finished"} 5',
      'panda_harvester_workers{queue="SLAC_Rubin",state="running"} 2',
      'panda_harvester_workers{queue="SLAC_Rubin_Slurm",state="submitted"} 1',
    ]);

    // and a later scrape shows the new counts, without states no worker is in any more
    rows = [{ queue: 'SLAC_Rubin', state: 'finished', count: 7 }];
    expect(workerLines((await scrape()).text)).toEqual([
      'panda_harvester_workers{queue="SLAC_Rubin",state="finished"} 7',
    ]);
  });

  it('counts submissions and cycles, and serves process metrics', async () => {
    const metrics = harvesterMetrics({ countsByQueueAndState: async () => [] });
    metrics.submitted('SLAC_Rubin', 'submitted');
    metrics.submitted('SLAC_Rubin', 'submitted');
    metrics.submitted('SLAC_Rubin', 'failed');
    metrics.cycle('ok');
    metrics.cycle('error');
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry });
    const { text } = await scrape();
    expect(text).toContain(
      'panda_harvester_worker_submissions_total{queue="SLAC_Rubin",outcome="submitted"} 2',
    );
    expect(text).toContain('panda_harvester_worker_submissions_total{queue="SLAC_Rubin",outcome="failed"} 1');
    expect(text).toContain('panda_harvester_cycles_total{outcome="ok"} 1');
    expect(text).toContain('panda_harvester_cycles_total{outcome="error"} 1');
    expect(text).toMatch(/^panda_harvester_process_resident_memory_bytes \d+/m);
  });

  it('answers 404 elsewhere and 500 when the counts cannot be read', async () => {
    const metrics = harvesterMetrics({
      countsByQueueAndState: async () => {
        throw new Error('database is down');
      },
    });
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry });
    expect((await scrape('/')).status).toBe(404);
    const failed = await scrape();
    expect(failed.status).toBe(500);
    expect(failed.text).toMatch(/database is down/);
  });
});
