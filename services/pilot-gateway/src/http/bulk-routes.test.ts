import { afterEach, describe, expect, it } from 'vitest';
import { closeApp, fakeDispatch, job, post, startApp } from '../test-support/app.js';

afterEach(closeApp);

describe('bulk pilot routes', () => {
  it('hands out several jobs at once and refuses a bad nJobs', async () => {
    const { client, calls } = fakeDispatch({
      acquire: async () => ({ jobs: [job(), job({ pandaId: 43 })] }),
    });
    startApp(client);
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
    startApp(client);
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
