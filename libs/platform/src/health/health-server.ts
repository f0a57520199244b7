import { createServer } from 'node:http';
import type { Server } from 'node:http';

/** A named readiness check: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

export interface HealthServerOptions {
  host: string;
  port: number;
  checks: Record<string, ReadinessCheck>;
  /** Per check. */
  timeoutMs?: number;
}

/** Runs every check with a deadline; `ok` or the error message per check. */
export async function runChecks(
  checks: Record<string, ReadinessCheck>,
  timeoutMs = 2000,
): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const results: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await Promise.race([
          check(signal),
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('timed out')))),
        ]);
        results[name] = 'ok';
      } catch (err) {
        results[name] = err instanceof Error ? err.message : String(err);
      }
    }),
  );
  return { ready: Object.values(results).every((r) => r === 'ok'), checks: results };
}

/**
 * `GET /healthz`: 200 while the process lives. `GET /readyz`: 200 only when every check
 * passes within its deadline, else 503 with what failed. Used by Kubernetes probes.
 */
export async function startHealthServer(
  options: HealthServerOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'GET only' });
    if (req.url === '/healthz') return send(200, { status: 'ok' });
    if (req.url === '/readyz') {
      void runChecks(options.checks, options.timeoutMs).then(
        (r) => send(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks }),
        (err: unknown) => send(500, { error: String(err) }),
      );
      return;
    }
    send(404, { error: `no route ${req.url ?? ''}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
