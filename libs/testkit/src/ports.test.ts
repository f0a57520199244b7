import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, freePorts, isPortOpen, waitForPort } from './ports.js';

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('freePort', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('returns a port that can be bound right away', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    servers.push(await listen(port));
    expect(await isPortOpen(port)).toBe(true);
  });

  it('does not return a port that is in use', async () => {
    const port = await freePort();
    servers.push(await listen(port));
    for (let i = 0; i < 20; i++) expect(await freePort()).not.toBe(port);
  });

  it('freePorts returns distinct ports', async () => {
    const ports = await freePorts(6);
    expect(new Set(ports).size).toBe(6);
  });
});

describe('waitForPort', () => {
  it('resolves once something listens', async () => {
    const port = await freePort();
    setTimeout(() => void listen(port).then((s) => setTimeout(() => s.close(), 500)), 200);
    await expect(waitForPort(port, { timeoutMs: 5000, intervalMs: 50 })).resolves.toBeUndefined();
  });

  it('rejects with the port in the message after the timeout', async () => {
    const port = await freePort();
    await expect(waitForPort(port, { timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(`127.0.0.1:${port}`);
  });

  it('stops early when abortIf gives a reason', async () => {
    const port = await freePort();
    await expect(waitForPort(port, { timeoutMs: 10_000, abortIf: () => 'process exited' })).rejects.toThrow(
      'process exited',
    );
  });
});
