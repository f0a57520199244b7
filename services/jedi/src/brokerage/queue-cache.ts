import type { QueueServiceClient } from '@panda/proto';
import type { QueueInfo } from './broker.js';

/** The server's queue catalogue and load, fetched at most every `ttlMs`. */
export class QueueCache {
  private cached: { at: number; queues: QueueInfo[] } | undefined;

  constructor(
    private readonly server: QueueServiceClient,
    private readonly ttlMs = 5000,
  ) {}

  async get(signal?: AbortSignal): Promise<QueueInfo[]> {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached.queues;
    const [{ queues }, { stats }] = await Promise.all([
      this.server.listQueues({}, { signal }),
      this.server.queueStats({ queues: [] }, { signal }),
    ]);
    const load = new Map(stats.map((s) => [s.queue, s]));
    const infos = queues.map((q) => ({
      name: q.name,
      site: q.site,
      status: q.status,
      corecount: q.corecount,
      minrssMb: q.minrssMb,
      maxrssMb: q.maxrssMb,
      maxtimeS: q.maxtimeS,
      running: load.get(q.name)?.running ?? 0,
      activated: load.get(q.name)?.activated ?? 0,
    }));
    this.cached = { at: Date.now(), queues: infos };
    return infos;
  }
}
