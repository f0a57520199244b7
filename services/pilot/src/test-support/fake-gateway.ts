import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeJob {
  pandaId: number;
  attemptNr: number;
  command: string;
  taskId?: number;
  memoryMb?: number;
  walltimeS?: number;
}

/** A tiny HTTP server playing the pilot-gateway (pilot unit tests only). */
export class FakeGateway {
  readonly getJobs: Record<string, unknown>[] = [];
  readonly updates: Record<string, unknown>[] = [];
  readonly logBatches: Record<string, unknown>[] = [];
  readonly archive = new Map<string, Buffer>();
  /** Updates answered 503 because of `failUpdatesAfterStarting`. */
  readonly refusedUpdates: Record<string, unknown>[] = [];
  /** Answer this many requests with 503 first. */
  unavailable = 0;
  /** Answer updates after `starting` with 503 (a gateway that went away). */
  failUpdatesAfterStarting = false;
  /** Send `Retry-After: <this>` with every 503 (a gateway shedding load). */
  retryAfterS?: number;
  /** Reply to `running` updates with this commandToPilot. */
  commandToPilot = '';
  private server: Server | undefined;
  url = '';

  constructor(private readonly jobs: FakeJob[]) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const reply = (status: number, payload: unknown) => {
          const retryAfter = status === 503 && this.retryAfterS !== undefined;
          res.writeHead(status, {
            'content-type': 'application/json',
            ...(retryAfter ? { 'retry-after': String(this.retryAfterS) } : {}),
          });
          res.end(JSON.stringify(payload));
        };
        if (this.unavailable > 0) {
          this.unavailable--;
          return reply(503, { error: 'server unavailable, retry later' });
        }
        const archive = /^\/logs\/v1\/jobs\/(\d+)\/archive\/(.+)$/.exec(req.url ?? '');
        if (req.method === 'PUT' && archive) {
          this.archive.set(`${archive[1]}/${decodeURIComponent(archive[2]!)}`, raw);
          return reply(200, { stored: true });
        }
        const body = JSON.parse(raw.toString()) as Record<string, unknown>;
        if (req.url === '/pilot/v1/getJob') {
          this.getJobs.push(body);
          const job = this.jobs.shift();
          return reply(200, {
            job: job ? { walltimeS: 0, ...job, name: `job-${job.pandaId}`, queue: 'Q', extra: 1 } : null,
          });
        }
        if (req.url === '/pilot/v1/updateJob') {
          if (this.failUpdatesAfterStarting && body.state !== 'starting') {
            this.refusedUpdates.push(body);
            return reply(503, { error: 'server unavailable, retry later' });
          }
          this.updates.push(body);
          const command = body.state === 'running' ? this.commandToPilot : '';
          return reply(200, { result: 'ok', state: body.state, commandToPilot: command, message: '' });
        }
        if (req.url === '/logs/v1/records') {
          this.logBatches.push(body);
          return reply(200, { accepted: (body.records as unknown[]).length });
        }
        reply(404, { error: 'no route' });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  states(pandaId: number): unknown[] {
    return this.updates.filter((u) => u.pandaId === pandaId).map((u) => u.state);
  }

  final(pandaId: number): Record<string, unknown> | undefined {
    return this.updates.filter((u) => u.pandaId === pandaId).at(-1);
  }

  records(pandaId: number): Record<string, unknown>[] {
    return this.logBatches
      .filter((b) => b.pandaId === pandaId)
      .flatMap((b) => b.records as Record<string, unknown>[]);
  }
}
