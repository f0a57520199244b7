import { ConfigError } from '@panda/platform';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';

const env = { PANDA_SERVER_ADDR: '127.0.0.1:50051' };

describe('loadGatewayConfig: back-pressure and batching', () => {
  it('has defaults for the limits toward the server', () => {
    expect(loadGatewayConfig({ env })).toMatchObject({
      serverMaxInFlight: 16,
      serverMaxQueued: 4000,
      overloadRetryAfterS: 2,
      updateBatchMax: 200,
      updateBatchWindowMs: 5,
    });
  });

  it('reads them from PANDA_* variables', () => {
    const config = loadGatewayConfig({
      env: {
        ...env,
        PANDA_SERVER_MAX_IN_FLIGHT: '4',
        PANDA_SERVER_MAX_QUEUED: '500',
        PANDA_OVERLOAD_RETRY_AFTER_S: '10',
        PANDA_UPDATE_BATCH_MAX: '50',
        PANDA_UPDATE_BATCH_WINDOW_MS: '0',
      },
    });
    expect(config).toMatchObject({
      serverMaxInFlight: 4,
      serverMaxQueued: 500,
      overloadRetryAfterS: 10,
      updateBatchMax: 50,
      updateBatchWindowMs: 0,
    });
  });

  it('refuses a queue smaller than a batch, and bad values, naming the variable', () => {
    expect(() =>
      loadGatewayConfig({ env: { ...env, PANDA_SERVER_MAX_QUEUED: '100', PANDA_UPDATE_BATCH_MAX: '200' } }),
    ).toThrow(/PANDA_SERVER_MAX_QUEUED \(100\) must be at least PANDA_UPDATE_BATCH_MAX \(200\)/);
    expect(() => loadGatewayConfig({ env: { ...env, PANDA_UPDATE_BATCH_MAX: '20000' } })).toThrow(
      /PANDA_UPDATE_BATCH_MAX/,
    );
    expect(() => loadGatewayConfig({ env: { ...env, PANDA_SERVER_MAX_IN_FLIGHT: '0' } })).toThrow(
      ConfigError,
    );
  });
});
