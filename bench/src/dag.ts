import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createGrpcClient, openChannel } from '@panda/platform';
import pg from 'pg';
import { WorkflowServiceDefinition } from '@panda/proto';
import { repoRootDir, startStack } from '@panda/testkit';
import type { ServiceName, Stack } from '@panda/testkit';
import { watchActivations } from './activations.js';
import type { ActivationWatch } from './activations.js';
import { cpuByPid, cpuUsed, peakRssMb } from './proc-stats.js';
import { parentsOf, planRubinDag, rubinChunks } from './rubin-dag.js';
import type { RubinDag } from './rubin-dag.js';
import { runSimPilots } from './sim-pilots.js';
import type { SimPilotsResult } from './sim-pilots.js';
import { percentile } from './stats.js';

/**
 * `./dev bench dag --nodes N`: a Rubin-shaped DAG of N nodes run to the end. PostgreSQL,
 * nats-server, server, jedi, idds, pilot-gateway and monitor run as separate processes
 * (startStack; no harvester): the pilots are simulated, speaking the real pilot-gateway bulk
 * API with zero-length payloads. The DAG is made in memory and streamed to idds with
 * SubmitWorkflowStream. Prints as its final line one JSON object with ingest time, completed
 * jobs per second, release latency (last parent finished -> child activated in server), and the
 * peak RSS of each service; CPU seconds per process go with it, to show where the time goes.
 */
const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    pilots: { type: 'string', default: '8' },
    batch: { type: 'string', default: '100' },
    detectors: { type: 'string', default: '189' },
    'timeout-s': { type: 'string', default: '1800' },
    /** Diagnosis only: ANALYZE the DAG's tables right after ingestion (what idds does not do). */
    analyze: { type: 'boolean', default: false },
    /** Stop after ingestion (for ingestion time and memory of very big DAGs). */
    'ingest-only': { type: 'boolean', default: false },
    /** Diagnosis: print the N statements that took most database time (pg_stat_statements). */
    'top-sql': { type: 'string', default: '0' },
    /** Diagnosis: write a V8 CPU profile of this service into <dir>/profiles. */
    profile: { type: 'string' },
    dir: { type: 'string' },
  },
});
const N = Number(values.nodes);
const PILOTS = Number(values.pilots);
const BATCH = Number(values.batch);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
const root = repoRootDir();
const dir = resolve(values.dir ?? join(root, '.local', 'bench-dag'));
const queue = 'SLAC_Rubin';
const SERVICES: ServiceName[] = ['server', 'jedi', 'idds', 'pilot-gateway', 'monitor'];
const TERMINAL = ['Finished', 'SubFinished', 'Failed', 'Cancelled'];
const CORES = availableParallelism();
const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** CPU samples of every service, of PostgreSQL (postmaster and backends) and of nats-server. */
function sampleCpu(stack: Stack): Record<string, Map<number, number>> {
  const out: Record<string, Map<number, number>> = {};
  for (const s of SERVICES) {
    const pid = stack.info.services[s]?.pid;
    if (pid) out[s] = cpuByPid(pid);
  }
  out.postgres = cpuByPid(stack.pg.pid, true);
  out.nats = cpuByPid(stack.nats.pid);
  out.bench = cpuByPid(process.pid);
  return out;
}

/** Peak RSS (VmHWM) of each service in MB. */
function maxRss(stack: Stack): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of SERVICES) {
    const pid = stack.info.services[s]?.pid;
    const mb = pid ? peakRssMb(pid) : undefined;
    if (mb !== undefined) out[s] = mb;
  }
  return out;
}

const cpuUsedSince = (
  before: Record<string, Map<number, number>>,
  after: Record<string, Map<number, number>>,
): Record<string, number> =>
  Object.fromEntries(Object.keys(after).map((k) => [k, cpuUsed(before[k] ?? new Map(), after[k]!)]));

/** Fresh planner statistics for the tables a big ingestion has just filled. */
async function analyzeTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('ANALYZE idds.nodes, idds.edges, jedi.task_inputs, server.jobs');
  } finally {
    await client.end();
  }
}

/** The statements that took most time in PostgreSQL, one line each. */
async function topStatements(url: string, n: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const { rows } = await client.query<{ total: number; calls: string; rows: string; query: string }>(
      `SELECT round(total_exec_time) AS total, calls, rows, regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1`,
      [n],
    );
    return rows.map((r) => `${r.total} ms ${r.calls} calls ${r.rows} rows: ${r.query.slice(0, 160)}`);
  } finally {
    await client.end();
  }
}

/** How long idds took to store the streamed DAG, from its log (before activation). */
function storedSeconds(stack: Stack): number | undefined {
  const file = stack.info.services.idds?.logFile;
  if (!file) return undefined;
  for (const line of readFileSync(file, 'utf8').split('\n').reverse()) {
    if (!line.includes('streamed workflow stored')) continue;
    const ms = (JSON.parse(line) as { ms?: number }).ms;
    return ms === undefined ? undefined : ms / 1000;
  }
  return undefined;
}

/**
 * Last parent finished -> child activated (its activation event received), and -> the
 * child's `activated_at` (database time), and -> child first seen by a pilot, in ms.
 */
function releaseLatencies(
  dag: RubinDag,
  pilots: SimPilotsResult,
  activations: ActivationWatch,
): { activated: number[]; db: number[]; seen: number[]; byLabel: Map<string, number[]> } {
  const activated: number[] = [];
  const db: number[] = [];
  const seen: number[] = [];
  const byLabel = new Map<string, number[]>();
  for (const job of pilots.seen) {
    const parents = parentsOf(dag, job.name);
    if (parents.length === 0) continue;
    let last = 0;
    for (const p of parents) last = Math.max(last, pilots.finishedAt.get(p) ?? NaN);
    if (!Number.isFinite(last)) throw new Error(`${job.name} ran before a parent finished`);
    const at = activations.at(job);
    if (at === undefined) throw new Error(`no activation event seen for ${job.name} (${job.pandaId})`);
    activated.push(at - last);
    db.push(job.activatedAt - last);
    seen.push(job.seenAt - last);
    const label = job.name === dag.finalJobName ? 'finalJob' : job.name.split('_')[0]!;
    const list = byLabel.get(label) ?? [];
    list.push(at - last);
    byLabel.set(label, list);
  }
  return { activated, db, seen, byLabel };
}

/** The pipetaskInit fan-out: when its children were activated and seen, after it finished. */
function waveLine(pilots: SimPilotsResult, activations: ActivationWatch): string {
  const end = pilots.finishedAt.get('pipetaskInit') ?? NaN;
  const isr = pilots.seen.filter((j) => j.name.startsWith('isr_'));
  const activated = isr.map((j) => (activations.at(j) ?? NaN) - end).sort((a, b) => a - b);
  const db = isr.map((j) => j.activatedAt - end);
  const seen = isr.map((j) => j.seenAt - end).sort((a, b) => a - b);
  const at = (xs: number[], q: number) => round(percentile(xs, q), 0);
  return (
    `isr wave (${isr.length} children of pipetaskInit), ms after it finished: activated min ${at(activated, 0)} ` +
    `p50 ${at(activated, 50)} max ${at(activated, 100)} (activated_at in ${new Set(db).size} transactions, max ${at(db, 100)}); ` +
    `seen min ${at(seen, 0)} p50 ${at(seen, 50)} max ${at(seen, 100)}`
  );
}

async function main(): Promise<void> {
  const dag = planRubinDag(N, Number(values.detectors));
  log(
    `DAG: ${N} nodes, ${dag.detectorsPerVisit.length} visits of ${Math.min(...dag.detectorsPerVisit)}-` +
      `${Math.max(...dag.detectorsPerVisit)} detectors; ${PILOTS} simulated pilots taking ${BATCH} jobs per call`,
  );
  rmSync(dir, { recursive: true, force: true });
  if (values.profile) mkdirSync(join(dir, 'profiles'), { recursive: true });
  const topSql = Number(values['top-sql']);
  if (topSql > 0) {
    process.env['TESTKIT_PG_OPTIONS'] =
      `${process.env['TESTKIT_PG_OPTIONS'] ?? ''} -c shared_preload_libraries=pg_stat_statements`;
  }
  const stack = await startStack({
    dir,
    services: SERVICES,
    logLevel: 'warn',
    serviceEnv: {
      idds: { PANDA_LOG_LEVEL: 'info' },
      jedi: { PANDA_LOG_LEVEL: 'info' },
      ...(values.profile
        ? {
            [values.profile]: {
              NODE_OPTIONS: `--import=${join(root, 'bench', 'dist', 'cpu-profile.js')}`,
              PANDA_BENCH_PROFILE_DIR: join(dir, 'profiles'),
            },
          }
        : {}),
    },
    log,
  });
  const channel = openChannel(stack.addresses.iddsAddr);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), TIMEOUT_MS);
  try {
    const idds = createGrpcClient(WorkflowServiceDefinition, channel, { deadlineMs: 600_000 });
    const cpuBefore = sampleCpu(stack);
    if (values['ingest-only']) {
      const started = performance.now();
      await idds.submitWorkflowStream(rubinChunks(dag, queue), { signal: stop.signal });
      const ingestS = round((performance.now() - started) / 1000, 2);
      log(
        `ingested ${N} nodes in ${ingestS} s (stored in ${storedSeconds(stack) ?? '?'} s, then tasks and roots)`,
      );
      const cpu = cpuUsedSince(cpuBefore, sampleCpu(stack));
      if (topSql > 0)
        log(
          `top ${topSql} statements by database time:\n  ${(await topStatements(stack.pg.url, topSql)).join('\n  ')}`,
        );
      console.log(
        JSON.stringify({ bench: 'dag', nodes: N, ingest_s: ingestS, max_rss_mb: maxRss(stack), cpu_s: cpu }),
      );
      return;
    }
    const activations = await watchActivations(stack.nats.url);
    let ended = false;
    const pilots = runSimPilots({
      gatewayUrl: stack.addresses.gatewayUrl,
      queue,
      pilots: PILOTS,
      batch: BATCH,
      done: () => ended,
      signal: stop.signal,
    });
    // If the pilots fail, stop waiting for the workflow too.
    pilots.catch(() => stop.abort());

    const started = performance.now();
    const { workflowId } = await idds.submitWorkflowStream(rubinChunks(dag, queue), { signal: stop.signal });
    const ingestS = (performance.now() - started) / 1000;
    const ingestedAt = Date.now();
    if (values.analyze) {
      const t = performance.now();
      await analyzeTables(stack.pg.url);
      log(`--analyze: ANALYZE of the DAG's tables took ${Math.round(performance.now() - t)} ms`);
    }
    log(
      `ingested: workflow ${workflowId}, ${N} nodes in ${ingestS.toFixed(2)} s (stored in ${storedSeconds(stack) ?? '?'} s, then tasks and roots)`,
    );

    let state = '';
    let lastLine = 0;
    while (!TERMINAL.includes(state)) {
      if (stop.signal.aborted) break;
      const wf = await idds.getWorkflow({ workflowId }, { signal: stop.signal });
      state = wf.state;
      if (Date.now() - lastLine > 5000 || TERMINAL.includes(state)) {
        const c = wf.counts!;
        log(
          `${state}: finished ${c.finished}/${c.total}, processing ${c.processing}, unreleased ${c.unreleased}`,
        );
        lastLine = Date.now();
      }
      if (TERMINAL.includes(state)) break;
      await sleep(200, undefined, { signal: stop.signal });
    }
    ended = true;
    const result = await pilots;
    await activations.stop();
    if (state !== 'Finished') throw new Error(`workflow ${workflowId} ended ${state || 'not at all'}`);
    const cpuAfter = sampleCpu(stack);

    // (a loop: spreading a million values overflows the stack)
    let lastFinished = 0;
    for (const t of result.finishedAt.values()) lastFinished = Math.max(lastFinished, t);
    const runS = (lastFinished - ingestedAt) / 1000;
    if (topSql > 0) {
      log(
        `top ${topSql} statements by database time:\n  ${(await topStatements(stack.pg.url, topSql)).join('\n  ')}`,
      );
    }
    if (result.finishedAt.size !== N)
      throw new Error(`pilots finished ${result.finishedAt.size} jobs, expected ${N}`);
    const latency = releaseLatencies(dag, result, activations);
    const cpu = cpuUsedSince(cpuBefore, cpuAfter);
    const wall = ingestS + runS;
    log(
      'release (activated) by label, p50/p99 ms: ' +
        [...latency.byLabel]
          .map(([l, v]) => `${l} ${round(percentile(v, 50), 0)}/${round(percentile(v, 99), 0)}`)
          .join(', '),
    );
    log(waveLine(result, activations));
    log(
      `run: ${N} jobs completed in ${runS.toFixed(1)} s after ingestion; ${result.getJobsCalls} getJobs calls ` +
        `(${result.emptyGetJobs} empty); release (activated) min ${round(latency.activated.reduce((a, b) => Math.min(a, b), Infinity))} ms, ` +
        `seen by a pilot p50 ${round(percentile(latency.seen, 50))} ms, p99 ${round(percentile(latency.seen, 99))} ms`,
    );
    log(
      `CPU seconds over ${wall.toFixed(1)} s of wall time (${CORES} cores = ${(CORES * wall).toFixed(0)} s): ` +
        Object.entries(cpu)
          .sort((a, b) => b[1] - a[1])
          .map(([k, s]) => `${k} ${s} (${Math.round((100 * s) / wall)}%)`)
          .join(', '),
    );
    // The final line, alone on stdout.
    console.log(
      JSON.stringify({
        bench: 'dag',
        nodes: N,
        ingest_s: round(ingestS, 2),
        jobs_per_s: Math.round(N / runS),
        release_p50_ms: round(percentile(latency.activated, 50)),
        release_p99_ms: round(percentile(latency.activated, 99)),
        max_rss_mb: maxRss(stack),
        release_db_p99_ms: round(percentile(latency.db, 99)),
        release_seen_p99_ms: round(percentile(latency.seen, 99)),
        cpu_s: cpu,
      }),
    );
  } finally {
    clearTimeout(timer);
    stop.abort();
    channel.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error('bench dag failed:', err);
  process.exit(1);
});
