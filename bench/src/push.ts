import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition } from '@panda/proto';
import { repoRootDir, sleep, startStack, stopProcessGroup } from '@panda/testkit';
import { percentile } from './stats.js';

/**
 * `./dev bench push`: push-mode latency with real components. PostgreSQL, nats-server,
 * server and pilot-gateway as processes (startStack), `--pilots` pilot processes in wait mode
 * on one queue; jobs are inserted into server one at a time (InsertJobs, as jedi does) and
 * each latency is submit -> the payload's first instruction (it writes $EPOCHREALTIME).
 */
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '50' },
    pilots: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const jobs = Number(values.jobs);
const pilots = Number(values.pilots);
const warmup = Number(values.warmup);
const root = repoRootDir();
const dir = resolve(values.dir ?? join(root, '.local', 'bench-push'));
const queue = 'SLAC_Rubin';
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  let result: { jobs: number; p50: number; p99: number } | undefined;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'marks'), { recursive: true });
  const stack = await startStack({ dir, services: ['server', 'pilot-gateway'], logLevel: 'warn', log });
  const children: ChildProcess[] = [];
  const channel = openChannel(stack.addresses.serverAddr);
  try {
    const jobService = createGrpcClient(JobServiceDefinition, channel);
    for (let i = 0; i < pilots; i++) {
      const out = openSync(join(dir, 'logs', `pilot-${i}.log`), 'a');
      const child = spawn(
        process.execPath,
        [
          join(root, 'services', 'pilot', 'dist', 'main.js'),
          ...['--queue', queue, '--gateway-url', stack.addresses.gatewayUrl, '--worker-id', `bench-${i}`],
          ...['--work-dir', join(dir, 'work', `pilot-${i}`), '--wait-s', '30', '--heartbeat-s', '60'],
          ...['--log-level', 'warn'],
        ],
        { detached: true, stdio: ['ignore', out, out], env: { PATH: process.env.PATH ?? '' } },
      );
      children.push(child);
    }
    await sleep(1500); // every pilot holds a getJob at the gateway

    const latencies: number[] = [];
    for (let i = 1; i <= warmup + jobs; i++) {
      const mark = join(dir, 'marks', `start-${i}`);
      const submitted = Date.now();
      await jobService.insertJobs({
        jobs: [
          {
            taskId: 1,
            inputId: i,
            workflowId: 1,
            label: 'bench',
            name: `push-${i}`,
            command: `echo $EPOCHREALTIME > ${mark}.tmp && mv ${mark}.tmp ${mark}`,
            queue,
            attemptNr: 1,
            maxAttempts: 1,
            memoryMb: 0,
            cores: 0,
            priority: 0,
            walltimeS: 0,
          },
        ],
      });
      const deadline = submitted + 30_000;
      while (!existsSync(mark)) {
        if (Date.now() > deadline) throw new Error(`job ${i} did not start within 30 s`);
        await sleep(1);
      }
      const startedMs = Number(readFileSync(mark, 'utf8').trim()) * 1000;
      const ms = Math.round((startedMs - submitted) * 10) / 10;
      if (i > warmup) latencies.push(ms);
      log(`job ${i}${i <= warmup ? ' (warm-up)' : ''}: ${ms} ms`);
      await sleep(100); // one at a time: let the pilot finish and wait again
    }
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    log(`pilots ${pilots}, jobs ${jobs}: p50 ${p50} ms, p99 ${p99} ms, max ${Math.max(...latencies)} ms`);
    result = { jobs: latencies.length, p50, p99 };
  } finally {
    channel.close();
    await Promise.all(children.map((c) => (c.pid ? stopProcessGroup(c.pid, 5000) : undefined)));
    await stack.stop();
  }
  // The final line, alone on stdout.
  console.log(JSON.stringify({ bench: 'push', jobs: result.jobs, p50_ms: result.p50, p99_ms: result.p99 }));
}

main().catch((err: unknown) => {
  console.error('bench push failed:', err);
  process.exit(1);
});
