import { ClientError, Status } from 'nice-grpc-common';
import { afterEach, describe, expect, it } from 'vitest';
import { closeApp, fakeDispatch, post, startApp } from '../test-support/app.js';

afterEach(closeApp);

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
    startApp(client);
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
    startApp(client);
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
    startApp(client);
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
    startApp(client);
    const badState = await post('/pilot/v1/updateJob', { ...update, state: 'holding' });
    expect(badState.statusCode).toBe(400);
    expect(badState.json<{ error: string }>().error).toMatch(/^state: /);
    const extra = await post('/pilot/v1/updateJob', { ...update, jobId: 42 });
    expect(extra.statusCode).toBe(400);
    expect(extra.json<{ error: string }>().error).toMatch(/^jobId: /);
    expect(calls.update).toHaveLength(0);
  });

  it('answers 500 when the server returns no result', async () => {
    startApp(fakeDispatch({}).client);
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
    startApp(client);
    const res = await post('/pilot/v1/updateJob', update);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'job 42 not found' });
  });
});
