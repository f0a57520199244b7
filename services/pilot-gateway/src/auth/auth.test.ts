import { signPilotToken } from '@panda/platform';
import type { AcquireJobsRequest, UpdateJobsRequest } from '@panda/proto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatchClient } from '../http/app.js';
import { appUnderTest, closeApp, startApp } from '../test-support/app.js';

const secret = 'shared-secret-between-harvester-and-gateway';
afterEach(closeApp);

function start(required: boolean) {
  const calls: { acquire: AcquireJobsRequest[]; update: UpdateJobsRequest[] } = { acquire: [], update: [] };
  const dispatch = {
    acquireJobs: async (req: AcquireJobsRequest) => {
      calls.acquire.push(req);
      return { jobs: [] };
    },
    updateJobs: async (req: UpdateJobsRequest) => {
      calls.update.push(req);
      return { results: [{ pandaId: 1, result: 'ok', state: 'running', commandToPilot: '', message: '' }] };
    },
  } as unknown as DispatchClient;
  startApp(dispatch, { auth: { secret, required } });
  return calls;
}

const inHour = () => Date.now() / 1000 + 3600;
const getJob = (token?: string, body: object = { queue: 'Q1', workerId: 'w-1' }) =>
  appUnderTest().inject({
    method: 'POST',
    url: '/pilot/v1/getJob',
    payload: body,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

describe('per-worker tokens', () => {
  it('accepts a valid token for its worker and queue', async () => {
    const calls = start(true);
    const res = await getJob(signPilotToken({ workerId: 'w-1', queue: 'Q1', expiresAt: inHour() }, secret));
    expect(res.statusCode).toBe(200);
    expect(calls.acquire).toHaveLength(1);
  });

  it('refuses a forged or expired token with 401 and a clear message, and calls nothing', async () => {
    const calls = start(false);
    const forged = signPilotToken(
      { workerId: 'w-1', queue: 'Q1', expiresAt: inHour() },
      'not-the-shared-secret',
    );
    const res = await getJob(forged);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: 'token rejected: token signature does not match (forged, or signed with another secret)',
    });
    const expired = signPilotToken(
      { workerId: 'w-1', queue: 'Q1', expiresAt: Date.now() / 1000 - 10 },
      secret,
    );
    const res2 = await appUnderTest().inject({
      method: 'POST',
      url: '/pilot/v1/updateJob',
      payload: { pandaId: 1, state: 'running', workerId: 'w-1' },
      headers: { authorization: `Bearer ${expired}` },
    });
    expect(res2.statusCode).toBe(401);
    expect(res2.json<{ error: string }>().error).toMatch(/^token rejected: token expired at \d{4}-/);
    expect(calls.acquire).toHaveLength(0);
    expect(calls.update).toHaveLength(0);
  });

  it('refuses another worker or queue with 403', async () => {
    const calls = start(true);
    const token = signPilotToken({ workerId: 'w-1', queue: 'Q1', expiresAt: inHour() }, secret);
    const res = await getJob(token, { queue: 'Q2', workerId: 'w-1' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'token is for queue Q1, not Q2' });
    expect((await getJob(token, { queue: 'Q1', workerId: 'w-2' })).json()).toEqual({
      error: 'token is for worker w-1, not w-2',
    });
    expect(calls.acquire).toHaveLength(0);
  });

  it('needs a token only when required', async () => {
    start(true);
    const res = await getJob();
    expect(res.statusCode).toBe(401);
    expect(res.json<{ error: string }>().error).toMatch(/^missing token/);
    await closeApp();
    const calls = start(false);
    expect((await getJob()).statusCode).toBe(200);
    expect(calls.acquire).toHaveLength(1);
  });
});
