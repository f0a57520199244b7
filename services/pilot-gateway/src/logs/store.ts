import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import type { ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStream } from '@panda/platform';
import { PilotLogBatch } from '@panda/proto';

/** The JetStream stream of real-time job logs: one PilotLogBatch per message. */
export const LOGS_STREAM = 'PANDA_LOGS';
/** The object store bucket of job log archives: objects `<pandaId>/<file>`. */
export const ARCHIVE_BUCKET = 'PANDA_LOG_ARCHIVE';

export const logSubject = (taskId: number, pandaId: number) => `logs.${taskId}.${pandaId}`;
const jobFilter = (pandaId: number) => `logs.*.${pandaId}`;

export interface LogStoreLimits {
  logMaxAgeMs: number;
  logMaxBytes: number;
  archiveMaxAgeMs: number;
  archiveMaxBytes: number;
}

export interface ArchiveEntry {
  name: string;
  size: number;
  modified: string;
}

const nanos = (ms: number) => Math.round(ms * 1_000_000);

/** Real-time log batches on a JetStream stream, and job log archives in an object store. */
export class LogStore {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly archive: ObjectStore,
  ) {}

  static async open(
    bus: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager },
    limits: LogStoreLimits,
  ): Promise<LogStore> {
    await ensureStream(bus.jsm, {
      name: LOGS_STREAM,
      subjects: ['logs.>'],
      maxAgeMs: limits.logMaxAgeMs,
      maxBytes: limits.logMaxBytes,
    });
    const archive = await new Objm(bus.nc).create(ARCHIVE_BUCKET, {
      description: 'pilot log archives per job (<pandaId>/<file>)',
      ttl: nanos(limits.archiveMaxAgeMs),
      max_bytes: limits.archiveMaxBytes,
    });
    return new LogStore(bus.js, bus.jsm, archive);
  }

  async publish(batch: PilotLogBatch): Promise<void> {
    await this.js.publish(logSubject(batch.taskId, batch.pandaId), PilotLogBatch.encode(batch).finish());
  }

  /**
   * The log batches of one job in order. Without `follow` it ends once caught up; with it,
   * it ends after the job's final batch or when `signal` aborts.
   */
  async *read(pandaId: number, follow: boolean, signal: AbortSignal): AsyncGenerator<PilotLogBatch> {
    const info = await this.jsm.consumers.add(LOGS_STREAM, {
      filter_subject: jobFilter(pandaId),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: nanos(60_000),
      mem_storage: true,
    });
    const consumer = await this.js.consumers.get(LOGS_STREAM, info.name);
    try {
      if (!follow && info.num_pending === 0) return;
      const messages = await consumer.consume({ max_messages: 256 });
      const onAbort = () => void messages.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const msg of messages) {
          const batch = PilotLogBatch.decode(msg.data);
          yield batch;
          if (batch.final && follow) return;
          if (!follow && msg.info.pending === 0) return;
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
        await messages.close();
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  async putArchive(pandaId: number, name: string, content: Uint8Array): Promise<ArchiveEntry> {
    const info = await this.archive.putBlob({ name: `${pandaId}/${name}` }, content);
    return { name, size: info.size, modified: info.mtime };
  }

  async listArchive(pandaId: number): Promise<ArchiveEntry[]> {
    const prefix = `${pandaId}/`;
    const all = await this.archive.list();
    return all
      .filter((o) => o.name.startsWith(prefix) && !o.deleted)
      .map((o) => ({ name: o.name.slice(prefix.length), size: o.size, modified: o.mtime }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async getArchive(pandaId: number, name: string): Promise<Uint8Array | null> {
    return this.archive.getBlob(`${pandaId}/${name}`);
  }
}
