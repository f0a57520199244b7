import type { AcquireJobsRequest, Job, UpdateJobsRequest } from '@panda/proto';
import { ClientError, Status } from 'nice-grpc-common';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueWaiters } from '../push/waiters.js';
import { appUnderTest, closeApp, post, startApp } from '../test-support/app.js';
import type { DispatchClient, GatewayLimits } from './app.js';

afterEach(closeApp);

/**
 * A fake DispatchService. AcquireJobs answers from `activated` by queue; while `hold` is set
 * every call waits until `release()`.
 */
function fakeServer() {
  const activated: Partial<Job>[] = [];
  const acquires: AcquireJobsRequest[] = [];
  const batches: UpdateJobsRequest[] = [];
  let fail: unknown;
  let gate: Promise<void> | undefined;
  let open = () => {};
  const wait = () => gate ?? Promise.resolve();
  const dispatch = {
    acquireJobs: async (req: AcquireJobsRequest) => {
      acquires.push(req);
      await wait();
      const i = activated.findIndex((j) => j.queue === req.queue);
      return { jobs: i < 0 ? [] : activated.splice(i, 1) };
    },
    updateJobs: async (req: UpdateJobsRequest) => {
      batches.push(req);
      await wait();
      if (fail) throw fail;
      return {
        results: req.updates.map((u) => ({
          pandaId: u.pandaId,
          result: 'ok',
          state: u.state,
          commandToPilot: u.pandaId % 2 === 0 ? 'tobekilled' : '',
          message: `job ${u.pandaId}`,
        })),
      };
    },
  } as unknown as DispatchClient;
  return {
    dispatch,
    activated,
    acquires,
    batches,
    failWith: (err: unknown) => (fail = err),
    hold: () => {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => {
      gate = undefined;
      open();
    },
  };
}

const start = (
  server: ReturnType<typeof fakeServer>,
  limits: Partial<GatewayLimits>,
  waiters?: QueueWaiters,
) => startApp(server.dispatch, { limits, waiters });

/** Waits (without a deadline of its own: the test's timeout bounds it) until `cond` holds. */
async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 2));
}

async function metric(name: string): Promise<number | undefined> {
  const text = (await appUnderTest().inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('updateJob batching toward the server', () => {
  it('coalesces concurrent pilot updates into one UpdateJobs call, each pilot getting its own result', async () => {
    // given a gateway cutting batches at 3 updates (and a window too long to matter)
    const server = fakeServer();
    start(server, { updateBatchMax: 3, updateBatchWindowMs: 60_000 });
    // when three pilots report at the same time
    const replies = await Promise.all(
      [11, 12, 13].map((pandaId) =>
        post('/pilot/v1/updateJob', { pandaId, state: 'running', workerId: `w${pandaId}` }),
      ),
    );
    // then the server got them in one call, and each pilot its own job's answer
    expect(server.batches).toHaveLength(1);
    expect(server.batches[0]!.updates.map((u) => [u.pandaId, u.workerId])).toEqual([
      [11, 'w11'],
      [12, 'w12'],
      [13, 'w13'],
    ]);
    expect(replies.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(replies.map((r) => r.json())).toEqual([
      { result: 'ok', state: 'running', commandToPilot: '', message: 'job 11' },
      { result: 'ok', state: 'running', commandToPilot: 'tobekilled', message: 'job 12' },
      { result: 'ok', state: 'running', commandToPilot: '', message: 'job 13' },
    ]);
    expect(await metric('panda_gateway_update_batch_size_count')).toBe(1);
    expect(await metric('panda_gateway_update_batch_size_sum')).toBe(3);
    expect(await metric('panda_gateway_update_batches_total{outcome="ok"}')).toBe(1);
  });

  it('sends a lone update after the window', async () => {
    const server = fakeServer();
    start(server, { updateBatchMax: 200, updateBatchWindowMs: 1 });
    const res = await post('/pilot/v1/updateJob', { pandaId: 5, state: 'starting' });
    expect(res.statusCode).toBe(200);
    expect(server.batches.map((b) => b.updates.length)).toEqual([1]);
  });

  it('answers every pilot of a failed batch with the mapped error', async () => {
    const server = fakeServer();
    server.failWith(
      new ClientError('/panda.server.v1.DispatchService/UpdateJobs', Status.UNAVAILABLE, 'down'),
    );
    start(server, { updateBatchMax: 2, updateBatchWindowMs: 60_000 });
    const replies = await Promise.all(
      [1, 2].map((pandaId) => post('/pilot/v1/updateJob', { pandaId, state: 'running' })),
    );
    expect(server.batches).toHaveLength(1);
    for (const r of replies) {
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ error: 'server unavailable, retry later' });
    }
    expect(await metric('panda_gateway_update_batches_total{outcome="error"}')).toBe(1);
  });
});

describe('back-pressure', () => {
  it('refuses with 503, Retry-After and a JSON error once the queue is full, and takes requests again after it drained', async () => {
    // given a gateway making one server call at a time with room for one waiting request,
    // and a server that is slow to answer
    const server = fakeServer();
    server.hold();
    start(server, { serverMaxInFlight: 1, serverMaxQueued: 1, overloadRetryAfterS: 4, updateBatchMax: 1 });
    const inCall = post('/pilot/v1/getJob', { queue: 'Q' });
    await until(() => server.acquires.length === 1);
    const queued = post('/pilot/v1/getJob', { queue: 'Q' });
    await until(async () => (await metric('panda_gateway_server_queued_requests')) === 1);
    expect(await metric('panda_gateway_server_calls_in_flight')).toBe(1);

    // when more pilots come
    const refusedGet = await post('/pilot/v1/getJob', { queue: 'Q' });
    const refusedUpdate = await post('/pilot/v1/updateJob', { pandaId: 9, state: 'running' });

    // then they are told to come back later, and nothing of theirs reached the server
    for (const r of [refusedGet, refusedUpdate]) {
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('4');
      expect(r.json()).toEqual({ error: expect.stringMatching(/^gateway overloaded: /), retryAfterS: 4 });
    }
    expect(server.batches).toHaveLength(0);
    expect(await metric('panda_gateway_overload_rejections_total{route="/pilot/v1/getJob"}')).toBe(1);
    expect(await metric('panda_gateway_overload_rejections_total{route="/pilot/v1/updateJob"}')).toBe(1);

    // and once the server answered, the admitted ones are served and new ones accepted
    server.release();
    expect((await inCall).statusCode).toBe(200);
    expect((await queued).statusCode).toBe(200);
    expect(await metric('panda_gateway_server_queued_requests')).toBe(0);
    const again = await post('/pilot/v1/updateJob', { pandaId: 9, state: 'running' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ result: 'ok' });
  });

  it('bounds bulk calls too', async () => {
    const server = fakeServer();
    server.hold();
    start(server, { serverMaxInFlight: 1, serverMaxQueued: 1 });
    const inCall = post('/pilot/v1/getJobs', { queue: 'Q', nJobs: 5 });
    await until(() => server.acquires.length === 1);
    const queued = post('/pilot/v1/updateJobs', { updates: [{ pandaId: 1, state: 'running' }] });
    await until(async () => (await metric('panda_gateway_server_queued_requests')) === 1);
    const refused = await post('/pilot/v1/getJobs', { queue: 'Q', nJobs: 5 });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('2'); // the default
    server.release();
    expect((await inCall).statusCode).toBe(200);
    expect((await queued).statusCode).toBe(200);
  });

  it('keeps a held getJob waiting when a later ask finds the gateway full', async () => {
    // given a push-mode getJob held on Q1 after its first ask found nothing
    const server = fakeServer();
    const waiters = new QueueWaiters();
    start(server, { serverMaxInFlight: 1, serverMaxQueued: 1, pushFallbackPollMs: 60_000 }, waiters);
    const held = post('/pilot/v1/getJob', { queue: 'Q1', waitS: 60 });
    await until(() => waiters.count('Q1') === 1 && server.acquires.length === 1);
    await until(async () => (await metric('panda_gateway_server_calls_in_flight')) === 0);
    // and the gateway full: one call in progress, one waiting
    server.hold();
    const inCall = post('/pilot/v1/getJob', { queue: 'Q2' });
    await until(() => server.acquires.length === 2);
    const queued = post('/pilot/v1/getJob', { queue: 'Q2' });
    await until(async () => (await metric('panda_gateway_server_queued_requests')) === 1);
    // when a job is announced on Q1, the held call's ask is refused: it goes on waiting
    server.activated.push({ pandaId: 77, queue: 'Q1', command: 'true', attemptNr: 1 });
    waiters.wake('Q1', 1);
    await until(
      async () => (await metric('panda_gateway_overload_rejections_total{route="held getJob"}')) === 1,
    );
    expect(server.acquires).toHaveLength(2); // the refused ask never reached the server
    // then, once the gateway drained and the job is announced again, the held call gets it
    server.release();
    await Promise.all([inCall, queued]);
    waiters.wake('Q1', 1);
    const res = await held;
    expect(res.statusCode).toBe(200);
    expect(res.json<{ job: { pandaId: number } }>().job.pandaId).toBe(77);
  });
});
