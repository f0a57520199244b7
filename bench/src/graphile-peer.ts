import { Logger, run } from 'graphile-worker';
import pg from 'pg';

/**
 * The peer: graphile-worker (a PostgreSQL job queue, SKIP LOCKED claims) runs N no-op jobs
 * with `concurrency` workers: claim, run, complete, as our pilots do. Jobs are added in one
 * statement so only the processing is timed.
 */
export async function runGraphilePeer(
  connectionString: string,
  n: number,
  concurrency: number,
  log: (line: string) => void,
): Promise<{ seconds: number; perSecond: number }> {
  // Quiet: graphile-worker logs every job at info, which would dominate the timing.
  const logger = new Logger(() => () => {});
  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  // Install the schema first (an empty run), then add every job, then time the processing.
  const installer = await run({
    connectionString,
    concurrency: 1,
    noHandleSignals: true,
    taskList: {},
    logger,
  });
  await installer.stop();
  const client = new pg.Client({ connectionString });
  await client.connect();
  // In statements of 5000: one huge statement makes PostgreSQL crawl (its NOTIFY queue).
  for (let added = 0; added < n; added += 5000) {
    await client.query(`SELECT graphile_worker.add_job('noop', '{}'::json) FROM generate_series(1, $1)`, [
      Math.min(5000, n - added),
    ]);
  }
  await client.end();
  const started = performance.now();
  const runner = await run({
    connectionString,
    concurrency,
    maxPoolSize: concurrency + 2,
    pollInterval: 50,
    noHandleSignals: true,
    logger,
    taskList: {
      noop: async () => {
        if (++completed === n) resolveDone();
      },
    },
  });
  await done;
  // The last completions are written after the task returns: wait for them.
  await new Promise((r) => setTimeout(r, 200));
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  log(`graphile-worker: ${n} jobs claimed, run and completed in ${seconds.toFixed(1)} s`);
  return { seconds, perSecond: n / seconds };
}
