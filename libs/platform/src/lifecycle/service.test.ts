import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../errors/errors.js';
import { createLogger } from '../logging/logger.js';
import { addHealthServer, runService } from './service.js';
import { Shutdown } from './shutdown.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A port nothing listens on (addHealthServer takes 0 to mean off). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

describe('addHealthServer', () => {
  it('serves /healthz and /readyz on the health port and closes on shutdown', async () => {
    const shutdown = new Shutdown({ logger, forceAfterMs: 1000 });
    const port = await freePort();
    expect(await addHealthServer(shutdown, { healthHost: '127.0.0.1', healthPort: port }, {})).toBe(port);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({
      status: 'ready',
      checks: {},
    });
    await shutdown.shutdown();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('is off with port 0', async () => {
    const shutdown = new Shutdown({ logger, forceAfterMs: 1000 });
    const added = vi.spyOn(shutdown, 'add');
    expect(await addHealthServer(shutdown, { healthHost: '127.0.0.1', healthPort: 0 }, {})).toBeUndefined();
    expect(added).not.toHaveBeenCalled();
  });
});

describe('runService', () => {
  const argv = process.argv;
  afterEach(() => {
    process.argv = argv;
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  /** Runs `runService` and waits until it has exited (or `main` resolved). */
  async function run(...args: Parameters<typeof runService>) {
    const exited = new Promise<void>((resolve) => {
      vi.spyOn(process, 'exit').mockImplementation(() => {
        resolve();
        return undefined as never;
      });
    });
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    runService(...args);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
    return { exit: vi.mocked(process.exit), stderr };
  }

  it('runs main and stays up when it starts', async () => {
    const main = vi.fn(() => Promise.resolve());
    const { exit } = await run('svc', main);
    expect(main).toHaveBeenCalledOnce();
    expect(exit).not.toHaveBeenCalled();
  });

  it('exits 1 when main fails: a configuration error by its message, anything else in full', async () => {
    const bad = await run('svc', () => Promise.reject(new ConfigError('invalid configuration: x')));
    expect(bad.stderr).toHaveBeenCalledWith('svc failed to start:', 'invalid configuration: x');
    expect(bad.exit).toHaveBeenCalledWith(1);
    vi.restoreAllMocks();
    const err = new Error('connect ECONNREFUSED');
    const broken = await run('svc', () => Promise.reject(err));
    expect(broken.stderr).toHaveBeenCalledWith('svc failed to start:', err);
    expect(broken.exit).toHaveBeenCalledWith(1);
  });

  it('runs the migrations instead of main for the migrate command', async () => {
    process.argv = ['node', 'dist/main.js', 'migrate'];
    vi.stubEnv('PANDA_CONFIG_FILE', '');
    vi.stubEnv('PANDA_DATABASE_URL', '');
    const main = vi.fn(() => Promise.resolve());
    const { exit, stderr } = await run('svc', main, { schema: 'svc', migrations: [] });
    expect(main).not.toHaveBeenCalled();
    // the migrate command needs PANDA_DATABASE_URL, unset here
    expect(stderr).toHaveBeenCalledWith('svc failed to start:', expect.stringMatching(/PANDA_DATABASE_URL/));
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('ignores the migrate command in a service without migrations', async () => {
    process.argv = ['node', 'dist/main.js', 'migrate'];
    const main = vi.fn(() => Promise.resolve());
    await run('svc', main);
    expect(main).toHaveBeenCalledOnce();
  });
});
