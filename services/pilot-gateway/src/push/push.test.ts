import type { AcquireJobsRequest, Job } from '@panda/proto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatchClient } from '../http/app.js';
import { closeApp, startApp } from '../test-support/app.js';
import { QueueWaiters } from './waiters.js';

afterEach(closeApp);

/** A server whose queue holds the jobs pushed into `activated`. */
function fakeServer() {
  const activated: Partial<Job>[] = [];
  const asked: AcquireJobsRequest[] = [];
  const dispatch = {
    acquireJobs: async (req: AcquireJobsRequest) => {
      asked.push(req);
      const i = activated.findIndex((j) => j.queue === req.queue);
      return { jobs: i < 0 ? [] : activated.splice(i, 1) };
    },
  } as unknown as DispatchClient;
  return { activated, asked, dispatch };
}

const job = (pandaId: number, queue: string): Partial<Job> => ({
  pandaId,
  queue,
  command: 'true',
  attemptNr: 1,
});

describe('push mode (long-poll getJob)', () => {
  it('holds the call and answers as soon as a job is announced on its queue', async () => {
    const server = fakeServer();
    const waiters = new QueueWaiters();
    const app = startApp(server.dispatch, { waiters, limits: { pushFallbackPollMs: 60_000 } });
    const started = Date.now();
    const pending = app.inject({
      method: 'POST',
      url: '/pilot/v1/getJob',
      payload: { queue: 'Q1', waitS: 30 },
    });
    while (waiters.count('Q1') === 0 || server.asked.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    // another queue's job does not answer it
    server.activated.push(job(8, 'Q2'));
    expect(waiters.wake('Q2', 1)).toBe(0);
    server.activated.push(job(7, 'Q1'));
    expect(waiters.wake('Q1', 1)).toBe(1);
    const res = await pending;
    expect(res.json<{ job: { pandaId: number } }>().job.pandaId).toBe(7);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(waiters.count()).toBe(0);
    expect(server.asked.every((r) => !('waitS' in r))).toBe(true);
  });

  it('answers job null when the wait is over, having asked again on the fallback poll', async () => {
    const server = fakeServer();
    const app = startApp(server.dispatch, {
      waiters: new QueueWaiters(),
      limits: { pushFallbackPollMs: 300 },
    });
    const started = Date.now();
    const res = await app.inject({
      method: 'POST',
      url: '/pilot/v1/getJob',
      payload: { queue: 'Q1', waitS: 1 },
    });
    expect(res.json()).toEqual({ job: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(server.asked.length).toBeGreaterThanOrEqual(3);
  });

  it('a wake during the server call is not lost', async () => {
    const waiters = new QueueWaiters();
    const ticket = waiters.enter('Q');
    expect(waiters.wake('Q', 1)).toBe(1); // announced while the ticket was asking the server
    const started = Date.now();
    await ticket.wait(5000, new AbortController().signal);
    expect(Date.now() - started).toBeLessThan(50);
    ticket.leave();
  });

  it('without waiters answers at once (pull mode)', async () => {
    const server = fakeServer();
    const app = startApp(server.dispatch);
    const res = await app.inject({
      method: 'POST',
      url: '/pilot/v1/getJob',
      payload: { queue: 'Q1', waitS: 30 },
    });
    expect(res.json()).toEqual({ job: null });
    expect(server.asked).toHaveLength(1);
  });
});
