import type { Services } from '../grpc/services.js';
import { usageError } from '../errors/cli-error.js';

/** Where a command writes: `out` is stdout (results), `err` is stderr (diagnostics). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** What every command gets from the composition root (tests pass fakes). */
export interface CommandContext {
  services: Services;
  output: Output;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Waits `ms`, rejecting when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Interval of `submit --wait` polling in ms. */
  pollIntervalMs: number;
  /** The monitor's base URL (PANDA_MONITOR_URL), for logs. */
  monitorUrl?: string | undefined;
}

/** Options every command accepts. */
export interface JsonOption {
  json?: boolean;
}

/** Parses a workflow id argument: a positive integer. */
export function parseWorkflowId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw usageError(`invalid workflow id '${text}': expected a positive integer`);
  }
  return Number(text);
}
