import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { repoRootDir, startStack } from '@panda/testkit';
import { loadMonitorData, RECOMMENDED_INDEXES } from './monitor-load.js';
import { makePlan, mulberry32 } from './monitor-plan.js';
import { makeProbes, pageStats, pageVariants, readSamples, runProbes } from './monitor-requests.js';
import { percentile } from './stats.js';

/**
 * `./dev bench monitor`: the monitor's pages over a realistic database. Starts PostgreSQL, NATS,
 * server, jedi, idds, harvester (for their schemas; their periodic loops are slowed to once a day
 * and harvester starts no pilots) and the monitor; bulk-loads 20 workflows, 300 tasks, `--jobs`
 * jobs with their nodes, edges, task inputs and workers straight into the services' tables; then
 * times every page, HTML and `?json` alternately, with varied filters and random ids.
 *
 * Options: --jobs (1 000 000), --requests per page (60), --concurrency (1), --warmup requests per
 * page, not timed (3), --seed (7), --target p95 in ms (200), --extra-indexes (create the
 * RECOMMENDED_INDEXES of monitor-load.ts after the load), --keep (leave everything up until
 * Ctrl-C, for EXPLAIN), --dir (default .local/bench-monitor). Per-page figures go to stderr; the
 * last stdout line is one JSON object.
 */
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '3' },
    seed: { type: 'string', default: '7' },
    target: { type: 'string', default: '200' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'extra-indexes': { type: 'boolean', default: false },
  },
});
const N = Number(values.jobs);
const PER_PAGE = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const WARMUP = Number(values.warmup);
const SEED = Number(values.seed);
const TARGET_MS = Number(values.target);
for (const [name, v, min] of [
  ['--jobs', N, 1000],
  ['--requests', PER_PAGE, 1],
  ['--concurrency', CONCURRENCY, 1],
  ['--warmup', WARMUP, 0],
] as const) {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}`);
}
const root = repoRootDir();
const dir = resolve(values.dir ?? join(root, '.local', 'bench-monitor'));
const log = (line: string) => process.stderr.write(`${line}\n`);
const ONE_DAY_MS = '86400000';

async function main(): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const stack = await startStack({
    dir,
    services: ['server', 'jedi', 'idds', 'harvester', 'monitor'],
    logLevel: 'warn',
    log,
    // The services only provide their schemas and gRPC: no sweeps, retries or pilots during the run.
    cycleMs: Number(ONE_DAY_MS),
    serviceEnv: {
      server: { PANDA_WATCHDOG_EVERY_MS: ONE_DAY_MS },
      jedi: { PANDA_PENDING_EVERY_MS: ONE_DAY_MS },
      idds: { PANDA_RESUME_EVERY_MS: ONE_DAY_MS },
      harvester: { PANDA_MAX_WORKERS_TOTAL: '0' },
    },
  });
  let failed = 0;
  try {
    const plan = makePlan(N, SEED);
    log(
      `loading ${plan.workflows.length} workflows, ${plan.tasks.length} tasks, ${plan.nodes} nodes, ${plan.jobs} jobs`,
    );
    const load = await loadMonitorData(
      stack.pg.url,
      plan,
      log,
      values['extra-indexes'] ? RECOMMENDED_INDEXES : [],
    );
    log(`loaded in ${load.seconds.toFixed(1)} s: ${JSON.stringify(load.rows)}`);

    const client = new pg.Client({ connectionString: stack.pg.url });
    await client.connect();
    const samples = await readSamples(client, plan).finally(() => client.end());
    const rnd = mulberry32(SEED + 1);
    const variants = pageVariants(samples, rnd);
    const base = stack.addresses.monitorUrl;
    if (WARMUP > 0) await runProbes(base, makeProbes(variants, WARMUP, rnd), 1);
    const probes = makeProbes(variants, PER_PAGE, rnd);
    log(
      `timing ${probes.length} requests (${PER_PAGE} per page, concurrency ${CONCURRENCY}) against ${base}`,
    );
    const hostLoad = () =>
      loadavg()
        .map((x) => x.toFixed(2))
        .join(' ');
    log(`host load average before timing: ${hostLoad()} (2 cores: other processes slow every page)`);
    const started = performance.now();
    const timings = await runProbes(base, probes, CONCURRENCY);
    log(`host load average after timing: ${hostLoad()}`);
    const seconds = (performance.now() - started) / 1000;

    const bad = timings.filter((t) => t.status !== 200);
    failed = bad.length;
    for (const b of bad.slice(0, 20)) log(`  FAILED ${b.status} ${b.path}`);
    const pages = pageStats(timings);
    log(
      `${'page'.padEnd(20)} ${'n'.padStart(4)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'html95'.padStart(7)} ${'json95'.padStart(7)} ${'max'.padStart(7)}`,
    );
    for (const [page, s] of Object.entries(pages)) {
      const flag = s.p95_ms >= TARGET_MS ? '  <-- above target' : '';
      log(
        `${page.padEnd(20)} ${String(s.n).padStart(4)} ${s.p50_ms.toFixed(1).padStart(7)} ${s.p95_ms.toFixed(1).padStart(7)} ` +
          `${s.html_p95_ms.toFixed(1).padStart(7)} ${s.json_p95_ms.toFixed(1).padStart(7)} ${s.max_ms.toFixed(1).padStart(7)}${flag}`,
      );
    }
    const slowest = [...timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
    for (const t of slowest) log(`  slowest: ${t.ms.toFixed(1)} ms ${t.path}`);
    const worst = Object.entries(pages).sort((a, b) => b[1].p95_ms - a[1].p95_ms)[0]!;
    const all = timings.map((t) => t.ms);
    const round = (x: number) => Math.round(x * 10) / 10;
    log(
      `${timings.length} requests in ${seconds.toFixed(1)} s; load ${load.seconds.toFixed(1)} s; ` +
        `every page p95 < ${TARGET_MS} ms: ${worst[1].p95_ms < TARGET_MS ? 'yes' : 'NO'}`,
    );
    if (values.keep) {
      log(`monitor at ${base}, database ${stack.pg.url}; Ctrl-C stops`);
      await new Promise<void>((resolveStop) => process.once('SIGINT', () => resolveStop()));
    }
    // The final line, alone on stdout.
    console.log(
      JSON.stringify({
        bench: 'monitor',
        jobs: load.rows['server.jobs'],
        requests: timings.length,
        p50_ms: round(percentile(all, 50)),
        p95_ms: round(percentile(all, 95)),
        worst_page: worst[0],
        worst_p95_ms: worst[1].p95_ms,
        failed_requests: failed,
        load_s: round(load.seconds),
        extra_indexes: values['extra-indexes'],
        pages: Object.fromEntries(
          Object.entries(pages).map(([p, s]) => [p, { p50_ms: s.p50_ms, p95_ms: s.p95_ms }]),
        ),
      }),
    );
  } finally {
    await stack.stop();
  }
  if (failed > 0) {
    log(`${failed} request(s) did not answer 200 with a whole page`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error('bench monitor failed:', err);
  process.exit(1);
});
