import { isAbortError } from 'abort-controller-x';
import { describe, expect, it } from 'vitest';
import { CallLimiter, OverloadedError } from './limiter.js';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
};

describe('CallLimiter', () => {
  it('runs at most maxInFlight calls at once and the others in arrival order', async () => {
    const limiter = new CallLimiter({ maxInFlight: 2, maxQueued: 10, retryAfterS: 1 });
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(limiter.state()).toEqual({ inFlight: 2, queued: 2, rejected: 0 });
    gates[1]!.open();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(limiter.state()).toEqual({ inFlight: 0, queued: 0, rejected: 0 });
  });

  it('refuses with OverloadedError and its Retry-After when the queue is full, and takes work again once drained', async () => {
    const limiter = new CallLimiter({ maxInFlight: 1, maxQueued: 1, retryAfterS: 7 });
    const g = gate();
    const first = limiter.run(() => g.opened);
    const second = limiter.run(() => Promise.resolve('second'));
    const refused = limiter.run(() => Promise.resolve('third'));
    await expect(refused).rejects.toBeInstanceOf(OverloadedError);
    await expect(refused).rejects.toMatchObject({
      retryAfterS: 7,
      message: expect.stringMatching(/overloaded/),
    });
    expect(limiter.state()).toEqual({ inFlight: 1, queued: 1, rejected: 1 });
    g.open();
    await first;
    expect(await second).toBe('second');
    expect(await limiter.run(() => Promise.resolve('again'))).toBe('again');
  });

  it('frees the slot when the call throws', async () => {
    const limiter = new CallLimiter({ maxInFlight: 1, maxQueued: 5, retryAfterS: 1 });
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limiter.state()).toMatchObject({ inFlight: 0, queued: 0 });
    expect(await limiter.run(() => Promise.resolve(1))).toBe(1);
  });

  it('takes a waiter that aborts out of the queue without running it', async () => {
    const limiter = new CallLimiter({ maxInFlight: 1, maxQueued: 5, retryAfterS: 1 });
    const g = gate();
    const first = limiter.run(() => g.opened);
    const ac = new AbortController();
    let ran = false;
    const waiting = limiter.run(async () => {
      ran = true;
    }, ac.signal);
    expect(limiter.state().queued).toBe(1);
    ac.abort();
    const err: unknown = await waiting.catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(limiter.state()).toMatchObject({ inFlight: 1, queued: 0 });
    g.open();
    await first;
    expect(ran).toBe(false);
    expect(limiter.state()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('counts reserved requests in the queue until their weighted slot is granted', async () => {
    const limiter = new CallLimiter({ maxInFlight: 1, maxQueued: 3, retryAfterS: 1 });
    limiter.reserve(1);
    limiter.reserve(1);
    limiter.reserve(1);
    expect(() => limiter.reserve(1)).toThrow(OverloadedError);
    limiter.unreserve(1);
    const release = await limiter.acquire(2);
    expect(limiter.state()).toEqual({ inFlight: 1, queued: 0, rejected: 1 });
    release();
    release(); // twice is harmless
    expect(limiter.state().inFlight).toBe(0);
  });
});
