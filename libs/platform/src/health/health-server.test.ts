import { describe, expect, it } from 'vitest';
import { startHealthServer } from './health-server.js';

describe('health server', () => {
  it('is alive always and ready only when every check passes', async () => {
    let dbUp = true;
    const health = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      checks: {
        database: async () => {
          if (!dbUp) throw new Error('connection refused');
        },
        nats: () => Promise.resolve(),
      },
    });
    const get = (path: string) => fetch(`http://127.0.0.1:${health.port}${path}`);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    dbUp = false;
    const res = await get('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ checks: { database: 'connection refused', nats: 'ok' } });
    await health.close();
  });

  it('fails a check that hangs past its deadline', async () => {
    const health = await startHealthServer({
      host: '127.0.0.1',
      port: 0,
      timeoutMs: 100,
      checks: { slow: () => new Promise(() => {}) },
    });
    const res = await fetch(`http://127.0.0.1:${health.port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ checks: { slow: 'timed out' } });
    await health.close();
  });
});
