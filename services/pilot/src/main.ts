#!/usr/bin/env node
import { hostname } from 'node:os';
import { join } from 'node:path';
import { constants } from 'node:os';
import { ConfigError, createLogger, Shutdown } from '@panda/platform';
import { parseCommandLine, USAGE } from './config.js';
import { GatewayClient } from './gateway/client.js';
import { runPilot } from './pilot.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  const { options } = parsed;
  const logger = createLogger({ service: 'pilot', level: options.logLevel }).child({
    queue: options.queue,
    workerId: options.workerId || undefined,
  });

  // A signal stops the pilot: the running payload is killed and reported failed (1201 for
  // SIGTERM), then the process exits with 128 + the signal number.
  const stop = new AbortController();
  const shutdown = new Shutdown({
    logger,
    forceAfterMs: options.shutdownTimeoutMs + options.killGraceS * 1000,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.warn({ signal }, 'pilot received a signal; stopping');
      stop.abort(signal);
      void shutdown.shutdown().then(() => process.exit(128 + constants.signals[signal]));
    });
  }

  const gateway = new GatewayClient({
    baseUrl: options.gatewayUrl,
    logger,
    token: options.token,
    busyRetryMs: options.busyRetryS * 1000,
  });
  logger.info(
    { gatewayUrl: options.gatewayUrl, workDir: options.workDir, node: hostname() },
    'pilot starting',
  );
  const run = runPilot({
    options,
    gateway,
    logger,
    node: hostname(),
    stop: stop.signal,
    echo: (line) => process.stdout.write(`${line}\n`),
    // harvester's local plugin writes the pilot's output to pilot.log in its work dir
    pilotLogFile: join(options.workDir, 'pilot.log'),
  });
  shutdown.add('finish current job', async () => {
    await run;
  });
  const summary = await run;
  if (stop.signal.aborted) return; // the shutdown handler exits
  process.exitCode = ['gateway', 'lostheartbeat', 'jobfile'].includes(summary.reason) ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error('pilot failed:', err);
  process.exit(1);
});
