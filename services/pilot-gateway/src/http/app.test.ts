import type { AcquireJobsRequest } from '@panda/proto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatchClient } from './app.js';
import { closeApp, fakeDispatch, job, startApp } from '../test-support/app.js';

afterEach(closeApp);

describe('GET /healthz', () => {
  it('answers ok', async () => {
    const app = startApp(fakeDispatch({}).client);
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('unknown routes', () => {
  it('answer 404 JSON', async () => {
    const app = startApp(fakeDispatch({}).client);
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json<{ error: string }>().error).toContain('/nope');
  });
});

describe('over a real socket', () => {
  it('does not cancel the server call of a request that completes', async () => {
    let seen: AbortSignal | undefined;
    const { client } = fakeDispatch({
      acquire: async () => {
        await new Promise((r) => setTimeout(r, 50));
        return { jobs: [job()] };
      },
    });
    const wrapped = {
      ...client,
      acquireJobs: (req: AcquireJobsRequest, options?: { signal?: AbortSignal }) => {
        seen = options?.signal;
        return client.acquireJobs(req, options as never);
      },
    } as DispatchClient;
    const app = startApp(wrapped);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${url}/pilot/v1/getJob`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queue: 'q' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { job: { pandaId: number } }).job.pandaId).toBe(42);
    expect(seen?.aborted).toBe(false);
  });

  it('cancels the server call when the pilot goes away', async () => {
    let cancelled = false;
    const { client } = fakeDispatch({});
    const slow = {
      ...client,
      acquireJobs: (_req: AcquireJobsRequest, options?: { signal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          options?.signal?.addEventListener('abort', () => {
            cancelled = true;
            reject(options.signal!.reason as Error);
          });
        }),
    } as unknown as DispatchClient;
    const app = startApp(slow);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const ac = new AbortController();
    const pending = fetch(`${url}/pilot/v1/getJob`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queue: 'q' }),
      signal: ac.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await pending;
    for (let i = 0; i < 50 && !cancelled; i++) await new Promise((r) => setTimeout(r, 20));
    expect(cancelled).toBe(true);
  });
});
