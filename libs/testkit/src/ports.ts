import { createServer, connect } from 'node:net';

/** Asks the kernel for a free TCP port on `host` (bind to port 0, read it, release it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a listening socket'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Several distinct free ports (each obtained separately, all held until the last is known). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when GET `url` answers 200. */
export async function isHttpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Checked before every attempt: a string stops the wait with that reason (e.g. "process exited"). */
  abortIf?: () => string | undefined;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value (not undefined) and returns that value. Rejects with
 * `describe` in the message when the timeout passes or `abortIf` gives a reason.
 */
export async function pollFor<T>(
  probe: () => Promise<T | undefined>,
  describe: string,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = options.abortIf?.();
    if (reason !== undefined) throw new Error(`${describe}: ${reason}`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`${describe}: not ready after ${timeoutMs / 1000}s`);
    await sleep(intervalMs);
  }
}

/** Polls `check` until it returns true (see pollFor). */
export async function waitFor(
  check: () => Promise<boolean>,
  describe: string,
  options: WaitOptions = {},
): Promise<void> {
  await pollFor(async () => ((await check()) ? true : undefined), describe, options);
}

export function waitForPort(port: number, options: WaitOptions & { host?: string } = {}): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  return waitFor(() => isPortOpen(port, host), `port ${host}:${port}`, options);
}

export function waitForHttp(url: string, options: WaitOptions = {}): Promise<void> {
  return waitFor(() => isHttpOk(url), `GET ${url}`, options);
}
