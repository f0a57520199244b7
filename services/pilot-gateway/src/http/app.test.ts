import { createLogger } from '@panda/platform';
import type { AcquireJobsRequest, Job, UpdateJobsRequest } from '@panda/proto';
import { ClientError, Status } from 'nice-grpc-common';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { DispatchClient } from './app.js';

const logger = createLogger({ service: 'pilot-gateway-test', level: 'silent' });

const job = (over: Partial<Job> = {}): Job => ({
  pandaId: 42,
  taskId: 7,
  inputId: 3,
  workflowId: 1,
  label: 'isr',
  name: 'isr-3',
  command: 'echo hi',
  queue: 'SLAC_Rubin',
  state: 'sent',
  attemptNr: 1,
  maxAttempts: 3,
  memoryMb: 2000,
  cores: 1,
  priority: 0,
  walltimeS: 3600,
  exitCode: 0,
  errorCode: 0,
  errorDiag: '',
  workerId: 'w1',
  node: 'n1',
  commandToPilot: '',
  createdAt: new Date('2025-01-01T00:00:00Z'),
  stateChangedAt: undefined,
  startTime: undefined,
  endTime: undefined,
  ...over,
});

interface Calls {
  acquire: AcquireJobsRequest[];
  update: UpdateJobsRequest[];
  signals: (AbortSignal | undefined)[];
}

function fakeDispatch(behaviour: {
  acquire?: (req: AcquireJobsRequest) => Promise<{ jobs: Job[] }>;
  update?: (req: UpdateJobsRequest) => Promise<{
    results: { pandaId: number; result: string; state: string; commandToPilot: string; message: string }[];
  }>;
}): { client: DispatchClient; calls: Calls } {
  const calls: Calls = { acquire: [], update: [], signals: [] };
  const client = {
    acquireJobs: async (req: AcquireJobsRequest, options?: { signal?: AbortSignal }) => {
      calls.acquire.push(req);
      calls.signals.push(options?.signal);
      return (behaviour.acquire ?? (async () => ({ jobs: [] })))(req);
    },
    updateJobs: async (req: UpdateJobsRequest, options?: { signal?: AbortSignal }) => {
      calls.update.push(req);
      calls.signals.push(options?.signal);
      return (behaviour.update ?? (async () => ({ results: [] })))(req);
    },
  } as unknown as DispatchClient;
  return { client, calls };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const post = (url: string, payload: unknown) =>
  app!.inject({ method: 'POST', url, payload: payload as object });

describe('GET /healthz', () => {
  it('answers ok', async () => {
    app = buildApp({ dispatch: fakeDispatch({}).client, logger });
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('POST /pilot/v1/getJob', () => {
  it('asks the server for one job with what the pilot offers and returns it as JSON', async () => {
    const { client, calls } = fakeDispatch({ acquire: async () => ({ jobs: [job()] }) });
    app = buildApp({ dispatch: client, logger });
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
    app = buildApp({ dispatch: fakeDispatch({}).client, logger });
    const res = await post('/pilot/v1/getJob', { queue: 'SLAC_Rubin' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ job: null });
  });

  it('refuses an unknown field, a missing queue and a wrong type with 400 naming the field', async () => {
    const { client, calls } = fakeDispatch({});
    app = buildApp({ dispatch: client, logger });
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
    app = buildApp({ dispatch: fakeDispatch({}).client, logger });
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
    app = buildApp({ dispatch: client, logger });
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
    app = buildApp({ dispatch: client, logger });
    const res = await post('/pilot/v1/getJob', { queue: 'q' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
  });
});

describe('POST /pilot/v1/updateJob', () => {
  const update = {
    pandaId: 42,
    state: 'failed',
    attemptNr: 1,
    exitCode: 3,
    errorCode: 1305,
    errorDiag: 'boom',
    node: 'n1',
    workerId: 'w1',
  };

  it('forwards one update and returns its single result', async () => {
    const { client, calls } = fakeDispatch({
      update: async () => ({
        results: [{ pandaId: 42, result: 'ok', state: 'failed', commandToPilot: '', message: '' }],
      }),
    });
    app = buildApp({ dispatch: client, logger });
    const res = await post('/pilot/v1/updateJob', update);
    expect(res.statusCode).toBe(200);
    expect(calls.update).toEqual([{ updates: [{ ...update, errors: [] }] }]);
    expect(res.json()).toEqual({ result: 'ok', state: 'failed', commandToPilot: '', message: '' });
  });

  it('fills defaults for omitted optional fields', async () => {
    const { client, calls } = fakeDispatch({
      update: async () => ({
        results: [{ pandaId: 42, result: 'ok', state: 'running', commandToPilot: 'tobekilled', message: '' }],
      }),
    });
    app = buildApp({ dispatch: client, logger });
    const res = await post('/pilot/v1/updateJob', { pandaId: 42, state: 'running' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ commandToPilot: string }>().commandToPilot).toBe('tobekilled');
    expect(calls.update[0]?.updates[0]).toEqual({
      pandaId: 42,
      state: 'running',
      attemptNr: 0,
      exitCode: 0,
      errorCode: 0,
      errorDiag: '',
      node: '',
      workerId: '',
      errors: [],
    });
  });

  it('forwards the metrics and extra error pairs of a final update, refusing unknown metric fields', async () => {
    const { client, calls } = fakeDispatch({
      update: async () => ({
        results: [{ pandaId: 42, result: 'ok', state: 'failed', commandToPilot: '', message: '' }],
      }),
    });
    app = buildApp({ dispatch: client, logger });
    const metrics = { maxPssKb: 900_000, avgPssKb: 500_000, cpuTimeS: 1.5, payloadS: 12.25, maxProcesses: 3 };
    const errors = [{ source: 'exe', code: 3, diag: 'boom' }];
    const res = await post('/pilot/v1/updateJob', { ...update, errorCode: 1235, metrics, errors });
    expect(res.statusCode).toBe(200);
    expect(calls.update[0]?.updates[0]).toMatchObject({ errorCode: 1235, metrics, errors });
    const bad = await post('/pilot/v1/updateJob', { ...update, metrics: { maxPss: 1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'metrics.maxPss: unknown field' });
  });

  it('refuses an unknown state and an unknown field', async () => {
    const { client, calls } = fakeDispatch({});
    app = buildApp({ dispatch: client, logger });
    const badState = await post('/pilot/v1/updateJob', { ...update, state: 'holding' });
    expect(badState.statusCode).toBe(400);
    expect(badState.json<{ error: string }>().error).toMatch(/^state: /);
    const extra = await post('/pilot/v1/updateJob', { ...update, jobId: 42 });
    expect(extra.statusCode).toBe(400);
    expect(extra.json<{ error: string }>().error).toMatch(/^jobId: /);
    expect(calls.update).toHaveLength(0);
  });

  it('answers 500 when the server returns no result', async () => {
    app = buildApp({ dispatch: fakeDispatch({}).client, logger });
    const res = await post('/pilot/v1/updateJob', update);
    expect(res.statusCode).toBe(500);
  });

  it('maps NOT_FOUND to 404', async () => {
    const { client } = fakeDispatch({
      update: async () => {
        throw new ClientError(
          '/panda.server.v1.DispatchService/UpdateJobs',
          Status.NOT_FOUND,
          'job 42 not found',
        );
      },
    });
    app = buildApp({ dispatch: client, logger });
    const res = await post('/pilot/v1/updateJob', update);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'job 42 not found' });
  });
});

describe('unknown routes', () => {
  it('answer 404 JSON', async () => {
    app = buildApp({ dispatch: fakeDispatch({}).client, logger });
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
    app = buildApp({ dispatch: wrapped, logger });
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
    app = buildApp({ dispatch: slow, logger });
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

describe('bulk pilot routes', () => {
  it('hands out several jobs at once and refuses a bad nJobs', async () => {
    const { client, calls } = fakeDispatch({
      acquire: async () => ({ jobs: [job(), job({ pandaId: 43 })] }),
    });
    app = buildApp({ dispatch: client, logger });
    const res = await post('/pilot/v1/getJobs', { queue: 'SLAC_Rubin', workerId: 'w1', nJobs: 2 });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { jobs: { pandaId: number }[] }).jobs.map((j) => j.pandaId)).toEqual([42, 43]);
    expect(calls.acquire[0]).toMatchObject({ queue: 'SLAC_Rubin', nJobs: 2 });
    const bad = await post('/pilot/v1/getJobs', { queue: 'SLAC_Rubin', nJobs: 0 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: expect.stringMatching(/^nJobs: /) });
  });

  it('forwards bulk updates and refuses updates from another worker', async () => {
    const { client, calls } = fakeDispatch({
      update: async (req) => ({
        results: req.updates.map((u) => ({
          pandaId: u.pandaId,
          result: 'ok',
          state: u.state,
          commandToPilot: '',
          message: '',
        })),
      }),
    });
    app = buildApp({ dispatch: client, logger });
    const res = await post('/pilot/v1/updateJobs', {
      workerId: 'w1',
      updates: [
        { pandaId: 1, state: 'running' },
        { pandaId: 2, state: 'finished' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(calls.update[0]!.updates.map((u) => [u.pandaId, u.workerId])).toEqual([
      [1, 'w1'],
      [2, 'w1'],
    ]);
    const mixed = await post('/pilot/v1/updateJobs', {
      workerId: 'w1',
      updates: [{ pandaId: 1, state: 'running', workerId: 'w2' }],
    });
    expect(mixed.statusCode).toBe(400);
    expect(calls.update).toHaveLength(1);
  });
});
