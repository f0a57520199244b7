#!/usr/bin/env node
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, Shutdown } from '@panda/platform';
import { pino } from 'pino';
import type { CommandContext, Output } from './commands/context.js';
import { loadCliConfig } from './config.js';
import { ExitCode } from './errors/cli-error.js';
import { GrpcServices } from './grpc/services.js';
import { runCli } from './program.js';

/** Deadline of each gRPC call: the CLI is interactive, fail fast. */
const CALL_DEADLINE_MS = 10_000;
const POLL_INTERVAL_MS = 1_000;

const output: Output = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
};

async function main(): Promise<number> {
  let config;
  try {
    config = loadCliConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    output.err(`error: ${err.message}`);
    return ExitCode.Usage;
  }
  // Diagnostics go to stderr: stdout carries only results.
  const logger = pino({ level: config.logLevel, base: { service: 'cli' } }, pino.destination(2));
  const services = new GrpcServices({
    iddsAddr: config.iddsAddr,
    serverAddr: config.serverAddr,
    jediAddr: config.jediAddr,
    harvesterAddr: config.harvesterAddr,
    deadlineMs: CALL_DEADLINE_MS,
  });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs });
  shutdown.add('grpc channels', () => services.close());
  shutdown.installSignalHandlers();

  const ctx: CommandContext = {
    services,
    output,
    signal: shutdown.signal,
    sleep: async (ms, signal) => {
      await delay(ms, undefined, { signal });
    },
    pollIntervalMs: POLL_INTERVAL_MS,
    monitorUrl: config.monitorUrl,
  };
  try {
    return await runCli(process.argv.slice(2), ctx);
  } finally {
    await shutdown.shutdown();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    output.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = ExitCode.NotOk;
  },
);
