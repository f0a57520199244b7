import { ClientError, Status } from 'nice-grpc-common';
import { afterEach, describe, expect, it } from 'vitest';
import { closeApp, fakeDispatch, job, post, startApp } from '../test-support/app.js';

afterEach(closeApp);

describe('POST /pilot/v1/getJob', () => {
  it('asks the server for one job with what the pilot offers and returns it as JSON', async () => {
    const { client, calls } = fakeDispatch({ acquire: async () => ({ jobs: [job()] }) });
    startApp(client);
    const res = await post('/pilot/v1/getJob', {
      queue: 'SLAC_Rubin',
      node: 'n1',
      memoryMb: 4000,
      cores: 1,
      remainingWalltimeS: 3600,
      workerId: 'w1',
    });
    expect(res.statusCode).toBe(200);
    expect(calls.acquire).toEqual([
      {
        queue: 'SLAC_Rubin',
        nJobs: 1,
        node: 'n1',
        memoryMb: 4000,
        cores: 1,
        remainingWalltimeS: 3600,
        workerId: 'w1',
      },
    ]);
    expect(calls.signals[0]).toBeInstanceOf(AbortSignal);
    const body = res.json<{ job: Record<string, unknown> }>();
    expect(body.job).toMatchObject({
      pandaId: 42,
      command: 'echo hi',
      attemptNr: 1,
      createdAt: '2025-01-01T00:00:00.000Z',
      endTime: null,
    });
  });

  it('returns job null when nothing is activated', async () => {
    startApp(fakeDispatch({}).client);
    const res = await post('/pilot/v1/getJob', { queue: 'SLAC_Rubin' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ job: null });
  });

  it('refuses an unknown field, a missing queue and a wrong type with 400 naming the field', async () => {
    const { client, calls } = fakeDispatch({});
    startApp(client);
    const unknown = await post('/pilot/v1/getJob', { queue: 'q', bogus: 1 });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<{ error: string }>().error).toMatch(/^bogus: /);
    const missing = await post('/pilot/v1/getJob', { node: 'n' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json<{ error: string }>().error).toMatch(/^queue: /);
    const wrong = await post('/pilot/v1/getJob', { queue: 'q', cores: 'two' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json<{ error: string }>().error).toMatch(/^cores: /);
    expect(calls.acquire).toHaveLength(0);
  });

  it('refuses malformed JSON with 400', async () => {
    const app = startApp(fakeDispatch({}).client);
    const res = await app.inject({
      method: 'POST',
      url: '/pilot/v1/getJob',
      headers: { 'content-type': 'application/json' },
      payload: '{"queue":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: string }>().error).toMatch(/^body: /);
  });

  it.each([
    [Status.INVALID_ARGUMENT, 400, 'queue: no such queue'],
    [Status.NOT_FOUND, 404, 'queue X not found'],
    [Status.UNAVAILABLE, 503, 'server unavailable, retry later'],
    [Status.DEADLINE_EXCEEDED, 503, 'server unavailable, retry later'],
    [Status.INTERNAL, 500, 'internal error'],
    [Status.FAILED_PRECONDITION, 500, 'internal error'],
  ])('maps gRPC status %s to HTTP %s', async (code, http, message) => {
    const details =
      code === Status.INVALID_ARGUMENT || code === Status.NOT_FOUND ? message : 'secret internals';
    const { client } = fakeDispatch({
      acquire: async () => {
        throw new ClientError('/panda.server.v1.DispatchService/AcquireJobs', code, details);
      },
    });
    startApp(client);
    const res = await post('/pilot/v1/getJob', { queue: 'q' });
    expect(res.statusCode).toBe(http);
    expect(res.json()).toEqual({ error: message });
  });

  it('answers 500 without internals when the client throws something else', async () => {
    const { client } = fakeDispatch({
      acquire: async () => {
        throw new Error('connection string postgres://secret');
      },
    });
    startApp(client);
    const res = await post('/pilot/v1/getJob', { queue: 'q' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
  });
});
