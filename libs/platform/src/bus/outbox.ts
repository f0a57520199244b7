import type { JetStreamClient } from '@nats-io/jetstream';
import type { Database, Sql } from '../db/database.js';
import type { Logger } from '../logging/logger.js';

export interface OutboxOptions {
  batchSize?: number;
  /** Fallback poll period; writes in this process wake the relay at once. */
  pollMs?: number;
}

/** Something a service publishes: a subject and an encoded protobuf message. */
export interface OutgoingEvent {
  subject: string;
  payload: Uint8Array;
}

/**
 * Transactional outbox. `write` stores events in the same transaction as the state change;
 * the relay publishes committed rows in id order to JetStream with `Nats-Msg-Id` = the row's
 * random uuid (so a re-publish after a crash is de-duplicated, and ids never collide across
 * databases or restores) and deletes them once acknowledged.
 */
export class Outbox {
  private wake: (() => void) | undefined;
  /** A kick that came while the relay was busy: the next sleep is skipped. */
  private kicked = false;
  private loop: Promise<void> | undefined;
  private readonly batchSize: number;
  private readonly pollMs: number;

  constructor(
    private readonly db: Database,
    private readonly js: JetStreamClient,
    private readonly logger: Logger,
    options: OutboxOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 500;
  }

  private get table(): string {
    return `"${this.db.schema}".outbox`;
  }

  /** Adds events to the transaction `sql`. Nothing is published unless it commits. */
  async write(sql: Sql, events: OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await sql.query(
      `INSERT INTO ${this.table} (subject, payload) SELECT * FROM unnest($1::text[], $2::bytea[])`,
      [events.map((e) => e.subject), events.map((e) => Buffer.from(e.payload))],
    );
  }

  /** Runs a transaction and wakes the relay after it commits. */
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const result = await this.db.tx(fn);
    this.kick();
    return result;
  }

  kick(): void {
    if (this.wake) this.wake();
    else this.kicked = true;
  }

  start(signal: AbortSignal): void {
    this.loop ??= this.run(signal);
  }

  /** Resolves when the relay loop has stopped (after `signal` aborted) and a final flush ran. */
  async stopped(): Promise<void> {
    await this.loop;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let published = 0;
      this.kicked = false;
      try {
        published = await this.publishBatch();
      } catch (err) {
        this.logger.error({ err }, 'outbox relay failed; will retry');
      }
      if (published < this.batchSize && !this.kicked) await this.sleep(signal);
    }
    // Drain what was committed before shutdown.
    try {
      while ((await this.publishBatch()) > 0);
    } catch (err) {
      this.logger.warn({ err }, 'outbox final flush failed; rows stay for the next start');
    }
  }

  private sleep(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  /** Publishes up to one batch of committed rows; returns how many. */
  async publishBatch(): Promise<number> {
    return this.db.tx(async (sql) => {
      const rows = await sql.query<{ id: string; msg_id: string; subject: string; payload: Buffer }>(
        `SELECT id, msg_id, subject, payload FROM ${this.table} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map((row) => this.js.publish(row.subject, row.payload, { msgID: row.msg_id, timeout: 10_000 })),
      );
      await sql.query(`DELETE FROM ${this.table} WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
