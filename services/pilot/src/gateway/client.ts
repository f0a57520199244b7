import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@panda/platform';
import type { z } from 'zod';
import { getJobResponse, logsResponse, updateJobResponse } from './types.js';
import type { GetJobRequest, JobUpdate, LogBatchJson, PilotJob, UpdateReply } from './types.js';

/** The gateway answered with a status that retrying will not fix (4xx, 500). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`gateway answered ${status}: ${message}`);
    this.name = 'GatewayError';
  }
}

/** The gateway or server is restarting or overloaded (408, 429, 502, 503, 504): try again. */
export class GatewayBusyError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** What the gateway's `Retry-After` asked for, in ms, if it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(`gateway answered ${status}: ${message}`);
    this.name = 'GatewayBusyError';
  }
}

export interface GatewayClientOptions {
  baseUrl: string;
  logger: Logger;
  /** Bearer token issued by harvester, sent on every call ('' sends none). */
  token?: string;
  /** Timeout of one HTTP request. */
  requestTimeoutMs?: number;
  /** Attempts per call (first try included) for getJob and heartbeats. */
  attempts?: number;
  /** Attempts for final-state updates, which matter more. */
  finalAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Longest wait a `Retry-After` may impose before the next attempt (default 120 s). */
  maxRetryAfterMs?: number;
  /**
   * getJob and final updates answered "busy" (429, 503, ... : the gateway is up but cannot take
   * the call now) are retried beyond their attempts until this long after the first try
   * (default 10 min), so that an overloaded gateway delays them but does not lose them.
   */
  busyRetryMs?: number;
  fetch?: typeof fetch;
  /** How the client waits between attempts, its clock and its randomness (tests pass fakes). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/** How often one call is tried: `attempts` in all, and while busy answers come, up to `busyMs`. */
interface RetryPolicy {
  attempts: number;
  busyMs?: number;
}

/** Statuses that mean "the gateway or server is restarting": retry. */
const RETRYABLE = new Set([408, 429, 502, 503, 504]);

/**
 * The wait a `Retry-After` header asks for (delay-seconds or an HTTP date), in ms; undefined
 * when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  sleep(ms, undefined, signal ? { signal } : undefined);

/**
 * HTTP/JSON client of the pilot-gateway, retrying with exponential backoff. A busy gateway's
 * `Retry-After` is honoured: the next attempt waits at least that long (capped, with up to 25%
 * random spread so that pilots refused together do not all come back in the same instant).
 */
export class GatewayClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly o: GatewayClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
    this.fetch = o.fetch ?? globalThis.fetch;
    this.sleep = o.sleep ?? defaultSleep;
  }

  /** A job to run, or null when the queue has none. `signal` stops the retries. */
  async getJob(request: GetJobRequest, signal?: AbortSignal): Promise<PilotJob | null> {
    // A long poll is held by the gateway up to waitS: the request may take that long.
    const timeoutMs = (request.waitS ?? 0) * 1000 + (this.o.requestTimeoutMs ?? 120_000);
    const body = await this.post(
      '/pilot/v1/getJob',
      request,
      getJobResponse,
      { attempts: this.o.attempts ?? 5, busyMs: this.o.busyRetryMs ?? 600_000 },
      signal,
      timeoutMs,
    );
    return body.job;
  }

  /** Real-time log records of one job; one attempt (the shipper keeps them for the next poll). */
  async postLogs(batch: LogBatchJson): Promise<void> {
    await this.post('/logs/v1/records', batch, logsResponse, { attempts: 1 });
  }

  /** Stores one file of a job's log archive at the gateway (replacing one of the same name). */
  async uploadArchive(pandaId: number, name: string, content: Buffer): Promise<void> {
    const url = `${this.base}/logs/v1/jobs/${pandaId}/archive/${encodeURIComponent(name)}`;
    const response = await this.fetch(url, {
      method: 'PUT',
      headers: { ...this.authHeader(), 'content-type': 'application/octet-stream' },
      body: content,
      signal: AbortSignal.timeout(this.o.requestTimeoutMs ?? 120_000),
    });
    const text = await response.text();
    if (!response.ok) throw new GatewayError(response.status, errorMessageOf(text));
  }

  private authHeader(): Record<string, string> {
    return this.o.token ? { authorization: `Bearer ${this.o.token}` } : {};
  }

  /**
   * One job's state; `signal` stops the retries (of a heartbeat whose job ended). A heartbeat
   * that cannot get through is given up after its attempts (the next one follows, and the
   * lost-heartbeat limit watches over them); a final update is also retried while the gateway
   * is busy, up to `busyRetryMs`.
   */
  async updateJob(update: JobUpdate, signal?: AbortSignal): Promise<UpdateReply> {
    const final = update.state === 'finished' || update.state === 'failed';
    const retry: RetryPolicy = final
      ? { attempts: this.o.finalAttempts ?? 8, busyMs: this.o.busyRetryMs ?? 600_000 }
      : { attempts: this.o.attempts ?? 5 };
    return this.post('/pilot/v1/updateJob', update, updateJobResponse, retry, signal);
  }

  private async post<S extends z.ZodType>(
    path: string,
    payload: unknown,
    schema: S,
    retry: RetryPolicy,
    signal?: AbortSignal,
    timeoutMs?: number,
  ): Promise<z.infer<S>> {
    const now = this.o.now ?? Date.now;
    const started = now();
    let delay = this.o.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await this.once(path, payload, schema, signal, timeoutMs);
      } catch (err) {
        if (err instanceof GatewayError || signal?.aborted) throw err;
        const busy = err instanceof GatewayBusyError;
        const asked = busy ? err.retryAfterMs : undefined;
        const wait =
          asked === undefined
            ? delay
            : Math.min(Math.max(delay, asked), this.o.maxRetryAfterMs ?? 120_000) *
              (1 + 0.25 * (this.o.random ?? Math.random)());
        const more =
          attempt < retry.attempts ||
          (busy && retry.busyMs !== undefined && now() + wait - started <= retry.busyMs);
        if (!more) throw err;
        this.o.logger.warn(
          { path, attempt, err: String(err), retryInMs: Math.round(wait) },
          'gateway call failed; retrying',
        );
        await this.sleep(wait, signal);
        delay = Math.min(delay * 2, this.o.maxBackoffMs ?? 8000);
      }
    }
  }

  private async once<S extends z.ZodType>(
    path: string,
    payload: unknown,
    schema: S,
    signal?: AbortSignal,
    timeoutMs?: number,
  ): Promise<z.infer<S>> {
    const timeout = AbortSignal.timeout(timeoutMs ?? this.o.requestTimeoutMs ?? 120_000);
    const response = await this.fetch(this.base + path, {
      method: 'POST',
      headers: { ...this.authHeader(), 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text();
    if (!response.ok) {
      const message = errorMessageOf(text);
      if (RETRYABLE.has(response.status)) {
        throw new GatewayBusyError(
          response.status,
          message,
          retryAfterMs(response.headers.get('retry-after')),
        );
      }
      throw new GatewayError(response.status, message);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new GatewayError(response.status, 'reply is not JSON');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new GatewayError(response.status, `unexpected reply: ${parsed.error.message}`);
    return parsed.data;
  }
}

function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: use the text itself
  }
  return text.slice(0, 200);
}
