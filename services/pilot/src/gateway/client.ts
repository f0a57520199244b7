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
  fetch?: typeof fetch;
}

/** Statuses that mean "the gateway or server is restarting": retry. */
const RETRYABLE = new Set([408, 429, 502, 503, 504]);

/** HTTP/JSON client of the pilot-gateway, retrying with exponential backoff. */
export class GatewayClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: GatewayClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
    this.fetch = o.fetch ?? globalThis.fetch;
  }

  /** A job to run, or null when the queue has none. `signal` stops the retries. */
  async getJob(request: GetJobRequest, signal?: AbortSignal): Promise<PilotJob | null> {
    // A long poll is held by the gateway up to waitS: the request may take that long.
    const timeoutMs = (request.waitS ?? 0) * 1000 + (this.o.requestTimeoutMs ?? 120_000);
    const body = await this.post(
      '/pilot/v1/getJob',
      request,
      getJobResponse,
      this.o.attempts ?? 5,
      signal,
      timeoutMs,
    );
    return body.job;
  }

  /** Real-time log records of one job; one attempt (the shipper keeps them for the next poll). */
  async postLogs(batch: LogBatchJson): Promise<void> {
    await this.post('/logs/v1/records', batch, logsResponse, 1);
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

  async updateJob(update: JobUpdate): Promise<UpdateReply> {
    const final = update.state === 'finished' || update.state === 'failed';
    const attempts = final ? (this.o.finalAttempts ?? 8) : (this.o.attempts ?? 5);
    return this.post('/pilot/v1/updateJob', update, updateJobResponse, attempts);
  }

  private async post<S extends z.ZodType>(
    path: string,
    payload: unknown,
    schema: S,
    attempts: number,
    signal?: AbortSignal,
    timeoutMs?: number,
  ): Promise<z.infer<S>> {
    let delay = this.o.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await this.once(path, payload, schema, signal, timeoutMs);
      } catch (err) {
        const retryable = !(err instanceof GatewayError) && !signal?.aborted;
        if (!retryable || attempt >= attempts) throw err;
        this.o.logger.warn(
          { path, attempt, err: String(err), retryInMs: delay },
          'gateway call failed; retrying',
        );
        await sleep(delay, undefined, signal ? { signal } : undefined);
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
      if (RETRYABLE.has(response.status)) throw new Error(`gateway answered ${response.status}: ${message}`);
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
