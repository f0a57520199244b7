import { createLogger } from '@panda/platform';
import { describe, expect, it } from 'vitest';
import { GatewayBusyError, GatewayClient, GatewayError, retryAfterMs } from './client.js';
import type { GatewayClientOptions } from './client.js';
import type { JobUpdate } from './types.js';

const logger = createLogger({ service: 'gateway-client-test', level: 'silent' });

const ok = { result: 'ok', state: 'running', commandToPilot: '', message: '' };
const busy = (retryAfter?: string) =>
  new Response(JSON.stringify({ error: 'gateway overloaded: 4000 requests already wait' }), {
    status: 503,
    headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
  });
const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });

/**
 * A client whose fetch answers from `replies` in turn (the last one again when they run out)
 * and whose waits only advance a fake clock, recording each wait.
 */
function client(replies: (() => Response)[], over: Partial<GatewayClientOptions> = {}) {
  let clock = 1_000_000;
  const waits: number[] = [];
  const calls: string[] = [];
  let i = 0;
  const c = new GatewayClient({
    baseUrl: 'http://gateway.test',
    logger,
    backoffMs: 100,
    maxBackoffMs: 400,
    random: () => 0,
    now: () => clock,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      waits.push(ms);
      clock += ms;
    },
    fetch: (async (url: string) => {
      calls.push(url);
      return replies[Math.min(i++, replies.length - 1)]!();
    }) as typeof fetch,
    ...over,
  });
  return { c, waits, calls };
}

const heartbeat: JobUpdate = {
  pandaId: 1,
  state: 'running',
  attemptNr: 1,
  exitCode: 0,
  errorCode: 0,
  errorDiag: '',
  node: 'n',
  workerId: 'w',
};
const final: JobUpdate = { ...heartbeat, state: 'failed', errorCode: 1305 };

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0); // in the past: at once
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('GatewayClient retries', () => {
  it('waits as long as Retry-After asks before trying again', async () => {
    const { c, waits, calls } = client([() => busy('3'), () => busy('1'), () => json(ok)]);
    expect(await c.updateJob(heartbeat)).toMatchObject({ result: 'ok' });
    expect(calls).toHaveLength(3);
    // 3 s as asked; then 1 s asked but the backoff (200 ms) is shorter, so 1 s
    expect(waits).toEqual([3000, 1000]);
  });

  it('spreads the waits of pilots refused together by up to a quarter', async () => {
    const { c, waits } = client([() => busy('4'), () => json(ok)], { random: () => 1 });
    await c.updateJob(heartbeat);
    expect(waits).toEqual([5000]);
  });

  it('keeps its own exponential backoff without Retry-After, and when it is longer', async () => {
    const { c, waits } = client([() => busy(), () => busy(), () => busy(), () => busy('0'), () => json(ok)]);
    await c.updateJob(heartbeat);
    expect(waits).toEqual([100, 200, 400, 400]);
  });

  it('caps what Retry-After may impose', async () => {
    const { c, waits } = client([() => busy('86400'), () => json(ok)], { maxRetryAfterMs: 30_000 });
    await c.updateJob(heartbeat);
    expect(waits).toEqual([30_000]);
  });

  it('gives a heartbeat up after its attempts, with the busy error', async () => {
    const { c, calls } = client([() => busy('1')], { attempts: 3 });
    const err: unknown = await c.updateJob(heartbeat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayBusyError);
    expect(err).toMatchObject({ status: 503, retryAfterMs: 1000 });
    expect(calls).toHaveLength(3);
  });

  it('keeps a final update going past its attempts while the gateway is busy, for up to busyRetryMs', async () => {
    const { c, waits } = client([() => busy('10')], { finalAttempts: 2, busyRetryMs: 60_000 });
    const err: unknown = await c.updateJob(final).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayBusyError);
    // six waits of 10 s fit in the minute: seven tries, not two
    expect(waits).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it('delivers a final update once the gateway takes it again', async () => {
    const replies = [
      ...Array<() => Response>(12).fill(() => busy('2')),
      () => json({ ...ok, state: 'failed' }),
    ];
    const { c, calls } = client(replies, { finalAttempts: 2 });
    expect(await c.updateJob(final)).toMatchObject({ result: 'ok', state: 'failed' });
    expect(calls).toHaveLength(13);
  });

  it('does not stretch the attempts of a gateway that cannot be reached', async () => {
    const { c, calls } = client(
      [
        () => {
          throw new TypeError('fetch failed');
        },
      ],
      { finalAttempts: 3, busyRetryMs: 600_000 },
    );
    await expect(c.updateJob(final)).rejects.toThrow('fetch failed');
    expect(calls).toHaveLength(3);
  });

  it('stops retrying when its signal aborts', async () => {
    const ac = new AbortController();
    const { c, calls } = client([() => busy('5')], {
      sleep: async () => {
        ac.abort();
        ac.signal.throwIfAborted();
      },
    });
    await expect(c.updateJob(heartbeat, ac.signal)).rejects.toThrow();
    expect(calls).toHaveLength(1);
  });

  it('does not retry what retrying cannot fix', async () => {
    const { c, calls } = client([
      () => new Response(JSON.stringify({ error: 'state: bad' }), { status: 400 }),
    ]);
    await expect(c.updateJob(heartbeat)).rejects.toBeInstanceOf(GatewayError);
    expect(calls).toHaveLength(1);
  });

  it('honours Retry-After for getJob too', async () => {
    const { c, waits } = client([() => busy('2'), () => json({ job: null })]);
    expect(
      await c.getJob({ queue: 'Q', node: 'n', memoryMb: 0, cores: 0, remainingWalltimeS: 0, workerId: '' }),
    ).toBeNull();
    expect(waits).toEqual([2000]);
  });
});
