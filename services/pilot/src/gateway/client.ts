import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@panda/platform';
import type { z } from 'zod';
import { getJobResponse, updateJobResponse } from './types.js';
import type { GetJobRequest, JobUpdate, PilotJob, UpdateReply } from './types.js';

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
    const body = await this.post('/pilot/v1/getJob', request, getJobResponse, this.o.attempts ?? 5, signal);
    return body.job;
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
  ): Promise<z.infer<S>> {
    let delay = this.o.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        return await this.once(path, payload, schema, signal);
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
  ): Promise<z.infer<S>> {
    const timeout = AbortSignal.timeout(this.o.requestTimeoutMs ?? 120_000);
    const response = await this.fetch(this.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
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
