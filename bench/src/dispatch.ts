import { parseArgs } from 'node:util';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition } from '@panda/proto';
import type { NewJob } from '@panda/proto';
import { createDatabase, startStack } from '@panda/testkit';
import { join, resolve } from 'node:path';
import { rmSync } from 'node:fs';
import { repoRootDir } from '@panda/testkit';
import { runGraphilePeer } from './graphile-peer.js';
import { percentile } from './stats.js';

/**
 * `./dev bench dispatch`: simulated pilots speaking the real pilot-gateway HTTP API (bulk
 * getJobs, then running and finished through bulk updateJobs) against N activated jobs, with
 * server, gateway, PostgreSQL and NATS as separate processes. The peer, graphile-worker,
 * runs the same claim-run-complete cycle on the same PostgreSQL in the same run.
 */
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '100000' },
    pilots: { type: 'string', default: '8' },
    batch: { type: 'string', default: '100' },
    'peer-concurrency': { type: 'string', default: '16' },
    dir: { type: 'string' },
  },
});
const N = Number(values.jobs);
const PILOTS = Number(values.pilots);
const BATCH = Number(values.batch);
const root = repoRootDir();
const dir = resolve(values.dir ?? join(root, '.local', 'bench-dispatch'));
const queue = 'SLAC_Rubin';
const log = (line: string) => process.stderr.write(`${line}\n`);

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function main(): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const stack = await startStack({ dir, services: ['server', 'pilot-gateway'], logLevel: 'warn', log });
  const channel = openChannel(stack.addresses.serverAddr);
  try {
    const jobs = createGrpcClient(JobServiceDefinition, channel, { deadlineMs: 120_000 });
    const insertStarted = performance.now();
    for (let i = 0; i < N; i += 5000) {
      const batch: NewJob[] = Array.from({ length: Math.min(5000, N - i) }, (_, k) => ({
        taskId: 1,
        inputId: i + k + 1,
        workflowId: 1,
        label: 'bench',
        name: `bench_${i + k}`,
        command: 'true',
        queue,
        attemptNr: 1,
        maxAttempts: 1,
        memoryMb: 1000,
        cores: 1,
        priority: 500,
        walltimeS: 0,
        gateNodeId: 0,
      }));
      await jobs.insertJobs({ jobs: batch });
    }
    log(`inserted ${N} activated jobs in ${((performance.now() - insertStarted) / 1000).toFixed(1)} s`);

    const gw = stack.addresses.gatewayUrl;
    const acquireMs: number[] = [];
    const updateMs: number[] = [];
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PILOTS }, async (_, p) => {
        const workerId = `bench-pilot-${p}`;
        for (;;) {
          let t = performance.now();
          const { jobs: got } = await post<{ jobs: { pandaId: number; attemptNr: number }[] }>(
            `${gw}/pilot/v1/getJobs`,
            { queue, nJobs: BATCH, node: `node-${p}`, memoryMb: 4000, cores: 1, workerId },
          );
          acquireMs.push(performance.now() - t);
          if (got.length === 0) return;
          for (const state of ['running', 'finished']) {
            t = performance.now();
            const { results } = await post<{ results: { result: string }[] }>(`${gw}/pilot/v1/updateJobs`, {
              workerId,
              updates: got.map((j) => ({ pandaId: j.pandaId, attemptNr: j.attemptNr, state })),
            });
            updateMs.push(performance.now() - t);
            if (results.some((r) => r.result !== 'ok'))
              throw new Error(`an update was refused: ${JSON.stringify(results)}`);
          }
          done += got.length;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    if (done !== N) throw new Error(`dispatched ${done} jobs, expected ${N}`);
    log(`panda: ${N} jobs claimed, run and completed in ${seconds.toFixed(1)} s`);

    const peerUrl = await createDatabase(stack.pg.url, 'graphile_bench');
    const peer = await runGraphilePeer(peerUrl, N, Number(values['peer-concurrency']), log);

    const round = (x: number) => Math.round(x * 10) / 10;
    console.log(
      JSON.stringify({
        bench: 'dispatch',
        jobs: N,
        dispatches_per_s: Math.round(N / seconds),
        acquire_p50_ms: round(percentile(acquireMs, 50)),
        acquire_p99_ms: round(percentile(acquireMs, 99)),
        update_p99_ms: round(percentile(updateMs, 99)),
        batch: BATCH,
        pilots: PILOTS,
        peer: 'graphile-worker',
        peer_dispatches_per_s: Math.round(peer.perSecond),
      }),
    );
  } finally {
    channel.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
