import { createLogger } from '@panda/platform';
import type { JobUpdateResult, UpdateJobsRequest } from '@panda/proto';
import { isAbortError } from 'abort-controller-x';
import { ClientError, Status } from 'nice-grpc-common';
import { describe, expect, it } from 'vitest';
import { CallLimiter, OverloadedError } from './limiter.js';
import type { DispatchClient, PilotUpdate } from './types.js';
import { MissingResultError, UpdateBatcher } from './update-batcher.js';

const logger = createLogger({ service: 'batcher-test', level: 'silent' });

/** A fake UpdateJobs: records each batch, answers `ok` per update once `release` is called. */
function fakeServer(answer?: (req: UpdateJobsRequest) => JobUpdateResult[]) {
  const batches: UpdateJobsRequest[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  let fail: unknown;
  let hold: Promise<void> = Promise.resolve();
  let release = () => {};
  const dispatch = {
    updateJobs: async (req: UpdateJobsRequest, options?: { signal?: AbortSignal }) => {
      batches.push(req);
      signals.push(options?.signal);
      await hold;
      if (fail) throw fail;
      const results =
        answer?.(req) ??
        req.updates.map((u) => ({
          pandaId: u.pandaId,
          result: 'ok',
          state: u.state,
          commandToPilot: u.pandaId === 2 ? 'tobekilled' : '',
          message: '',
        }));
      return { results };
    },
  } as unknown as Pick<DispatchClient, 'updateJobs'>;
  return {
    dispatch,
    batches,
    signals,
    failWith: (err: unknown) => (fail = err),
    holdCalls: () => {
      hold = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
  };
}

const upd = (pandaId: number, state = 'running'): PilotUpdate => ({ pandaId, state, attemptNr: 1 });

function batcher(server: ReturnType<typeof fakeServer>, over: { maxBatch?: number; windowMs?: number } = {}) {
  const limiter = new CallLimiter({ maxInFlight: 4, maxQueued: 100, retryAfterS: 1 });
  const sizes: [number, string][] = [];
  const b = new UpdateBatcher({
    dispatch: server.dispatch,
    limiter,
    logger,
    maxBatch: over.maxBatch ?? 3,
    // Long window: batches in these tests are cut by size or by close(), never by time.
    windowMs: over.windowMs ?? 60_000,
    onBatch: (size, outcome) => sizes.push([size, outcome]),
  });
  return { b, limiter, sizes };
}

describe('UpdateBatcher', () => {
  it('sends concurrent updates as one UpdateJobs call and gives each caller its own result', async () => {
    const server = fakeServer();
    const { b, sizes } = batcher(server);
    const results = await Promise.all([b.submit(upd(1)), b.submit(upd(2)), b.submit(upd(3, 'finished'))]);
    expect(server.batches).toHaveLength(1);
    expect(server.batches[0]!.updates.map((u) => u.pandaId)).toEqual([1, 2, 3]);
    expect(results.map((r) => [r.pandaId, r.state, r.commandToPilot])).toEqual([
      [1, 'running', ''],
      [2, 'running', 'tobekilled'],
      [3, 'finished', ''],
    ]);
    expect(server.signals).toEqual([undefined]); // no one caller can cancel the batch
    expect(sizes).toEqual([[3, 'ok']]);
  });

  it('cuts batches at maxBatch and sends the rest after the window', async () => {
    const server = fakeServer();
    const { b } = batcher(server, { maxBatch: 2, windowMs: 1 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((id) => b.submit(upd(id))));
    expect(results.map((r) => r.pandaId)).toEqual([1, 2, 3, 4, 5]);
    expect(server.batches.map((r) => r.updates.map((u) => u.pandaId))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('hands the batch error to every waiting caller', async () => {
    const server = fakeServer();
    const unavailable = new ClientError('/x', Status.UNAVAILABLE, 'connection refused');
    server.failWith(unavailable);
    const { b, sizes, limiter } = batcher(server);
    const outcomes = await Promise.allSettled([b.submit(upd(1)), b.submit(upd(2)), b.submit(upd(3))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toBe(unavailable);
    expect(sizes).toEqual([[3, 'error']]);
    expect(limiter.state()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('fails only the callers whose result is missing or not theirs', async () => {
    const server = fakeServer((req) => [
      { pandaId: req.updates[0]!.pandaId, result: 'ok', state: 'running', commandToPilot: '', message: '' },
    ]);
    const { b } = batcher(server, { maxBatch: 2 });
    const [first, second] = await Promise.allSettled([b.submit(upd(1)), b.submit(upd(2))]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { pandaId: 1 } });
    expect((second as PromiseRejectedResult).reason).toBeInstanceOf(MissingResultError);
  });

  it('takes a caller that aborts before the batch is sent out of it', async () => {
    const server = fakeServer();
    const { b, limiter } = batcher(server);
    const ac = new AbortController();
    const one = b.submit(upd(1));
    const two = b.submit(upd(2), ac.signal);
    expect(limiter.state().queued).toBe(2);
    ac.abort();
    expect(isAbortError(await two.catch((e: unknown) => e))).toBe(true);
    expect(limiter.state().queued).toBe(1);
    await b.close();
    expect((await one).pandaId).toBe(1);
    expect(server.batches.map((r) => r.updates.map((u) => u.pandaId))).toEqual([[1]]);
  });

  it('lets the batch go on for the others when a caller aborts after it was sent', async () => {
    const server = fakeServer();
    server.holdCalls();
    const { b } = batcher(server);
    const ac = new AbortController();
    const one = b.submit(upd(1));
    const two = b.submit(upd(2), ac.signal);
    const three = b.submit(upd(3)); // the third update cuts the batch: it is on its way
    await new Promise((r) => setImmediate(r));
    expect(server.batches).toHaveLength(1);
    ac.abort();
    expect(isAbortError(await two.catch((e: unknown) => e))).toBe(true);
    server.release();
    expect((await one).pandaId).toBe(1);
    expect((await three).pandaId).toBe(3);
    expect(server.batches[0]!.updates.map((u) => u.pandaId)).toEqual([1, 2, 3]);
  });

  it('refuses an update with OverloadedError when the limiter queue is full', async () => {
    const server = fakeServer();
    const limiter = new CallLimiter({ maxInFlight: 1, maxQueued: 2, retryAfterS: 3 });
    const b = new UpdateBatcher({
      dispatch: server.dispatch,
      limiter,
      logger,
      maxBatch: 10,
      windowMs: 60_000,
    });
    const waiting = [b.submit(upd(1)), b.submit(upd(2))];
    await expect(b.submit(upd(3))).rejects.toBeInstanceOf(OverloadedError);
    await b.close();
    expect((await Promise.all(waiting)).map((r) => r.pandaId)).toEqual([1, 2]);
    expect(server.batches.map((r) => r.updates.length)).toEqual([2]);
  });

  it('refuses at once a caller already aborted', async () => {
    const server = fakeServer();
    const { b, limiter } = batcher(server);
    const err: unknown = await b.submit(upd(1), AbortSignal.abort()).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(limiter.state().queued).toBe(0);
    await b.close();
    expect(server.batches).toHaveLength(0);
  });
});
