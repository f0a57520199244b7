import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Database, Sql } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { EVENTS_STREAM } from './connect.js';

export interface EventMeta {
  subject: string;
  msgId: string;
  seq: number;
}

export interface Decoder<T> {
  decode(bytes: Uint8Array): T;
}

export interface EventConsumerOptions<T> {
  db: Database;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  /** Durable name; also the key under which processed messages are remembered. */
  durable: string;
  filterSubject: string;
  decoder: Decoder<T>;
  /** Runs inside the transaction that records the message as processed. */
  handle: (sql: Sql, event: T, meta: EventMeta) => Promise<void>;
  /**
   * Batching: messages that arrived while the previous transaction ran are handled together
   * in one transaction (at most `maxBatch`), after `coalesce` merged their events (e.g. one
   * event per workflow). `meta` then describes the first message of the batch. Without it
   * every message has its own transaction.
   */
  coalesce?: (events: T[]) => T[];
  /** Most messages in one transaction when `coalesce` is set (default 64). */
  maxBatch?: number;
  /**
   * Also bounds a batch by the sum of `weight` (e.g. nodes in an event), so that a burst of
   * big events does not hold row locks for long; a single heavier message still goes alone.
   */
  weight?: (event: T) => number;
  maxBatchWeight?: number;
  /** Called after the transaction committed (e.g. to wake an outbox relay). */
  afterCommit?: () => void;
  stream?: string;
  maxDeliver?: number;
  ackWaitMs?: number;
}

const nanos = (ms: number) => ms * 1_000_000;

interface Received<T> {
  m: JsMsg;
  msgId: string;
  event: T;
}

/**
 * A durable pull consumer with explicit ack. Each message is handled in one database
 * transaction together with an insert into `<schema>.processed_events`; a redelivered
 * message finds its row and changes nothing twice. Ack only after commit. With `coalesce`,
 * a backlog is handled in batches (one transaction, one ack round); a batch that fails is
 * retried message by message so one bad message cannot hold back the others.
 */
export class EventConsumer<T> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxBatch: number;

  constructor(private readonly o: EventConsumerOptions<T>) {
    this.maxBatch = o.coalesce ? (o.maxBatch ?? 64) : 1;
  }

  async start(): Promise<void> {
    const stream = this.o.stream ?? EVENTS_STREAM;
    const config = {
      durable_name: this.o.durable,
      filter_subject: this.o.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: this.o.maxDeliver ?? 20,
      ack_wait: nanos(this.o.ackWaitMs ?? 30_000),
      max_ack_pending: 1000,
    };
    try {
      await this.o.jsm.consumers.info(stream, this.o.durable);
      await this.o.jsm.consumers.update(stream, this.o.durable, config);
    } catch {
      await this.o.jsm.consumers.add(stream, config);
    }
    const consumer = await this.o.js.consumers.get(stream, this.o.durable);
    this.messages = await consumer.consume({ max_messages: 256 });
    this.loop = this.maxBatch > 1 ? this.runBatched(this.messages) : this.run(this.messages);
  }

  /** Stops fetching and waits for the messages in hand to be finished. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      const r = this.decode(m);
      if (r) await this.processOne(r);
    }
  }

  /**
   * Two loops: one moves delivered messages into `waiting` (pausing when it holds two
   * batches), the other handles what is waiting, as one batch, whenever it is free.
   */
  private async runBatched(messages: ConsumerMessages): Promise<void> {
    const waiting: Received<T>[] = [];
    let ended = false;
    let wakeWorker: (() => void) | undefined;
    let wakePump: (() => void) | undefined;
    const pump = (async () => {
      try {
        for await (const m of messages) {
          const r = this.decode(m);
          if (r) waiting.push(r);
          wakeWorker?.();
          if (waiting.length >= 2 * this.maxBatch) await new Promise<void>((resolve) => (wakePump = resolve));
        }
      } finally {
        ended = true;
        wakeWorker?.();
      }
    })();
    for (;;) {
      if (waiting.length === 0) {
        if (ended) break;
        await new Promise<void>((resolve) => (wakeWorker = resolve));
        wakeWorker = undefined;
        continue;
      }
      const batch = waiting.splice(0, this.batchLength(waiting));
      wakePump?.();
      wakePump = undefined;
      await this.processBatch(batch);
    }
    await pump;
  }

  /** How many of the waiting messages go into the next batch (at least one). */
  private batchLength(waiting: Received<T>[]): number {
    const { weight, maxBatchWeight } = this.o;
    const n = Math.min(waiting.length, this.maxBatch);
    if (!weight || maxBatchWeight === undefined) return n;
    let sum = weight(waiting[0]!.event);
    let k = 1;
    while (k < n && (sum += weight(waiting[k]!.event)) <= maxBatchWeight) k++;
    return k;
  }

  private decode(m: JsMsg): Received<T> | undefined {
    const msgId = m.headers?.get('Nats-Msg-Id') || `${m.info.stream}:${m.seq}`;
    try {
      return { m, msgId, event: this.o.decoder.decode(m.data) };
    } catch (err) {
      this.o.logger.error(
        { err, consumer: this.o.durable, subject: m.subject, msgId },
        'undecodable event dropped',
      );
      m.term('undecodable');
      return undefined;
    }
  }

  private meta(r: Received<T>): EventMeta {
    return { subject: r.m.subject, msgId: r.msgId, seq: r.m.seq };
  }

  private async processBatch(batch: Received<T>[]): Promise<void> {
    if (batch.length === 1) return this.processOne(batch[0]!);
    try {
      await this.o.db.tx(async (sql) => {
        const rows = await sql.query<{ msg_id: string }>(
          `INSERT INTO "${this.o.db.schema}".processed_events (consumer, msg_id)
           SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING msg_id`,
          [this.o.durable, batch.map((r) => r.msgId)],
        );
        const fresh = new Set(rows.map((r) => r.msg_id));
        const events = batch.filter((r) => fresh.delete(r.msgId)).map((r) => r.event);
        if (events.length === 0) return;
        const merged = this.o.coalesce ? this.o.coalesce(events) : events;
        for (const event of merged) await this.o.handle(sql, event, this.meta(batch[0]!));
      });
    } catch (err) {
      this.o.logger.warn(
        { err, consumer: this.o.durable, messages: batch.length },
        'event batch failed; handling its messages one by one',
      );
      for (const r of batch) await this.processOne(r);
      return;
    }
    this.o.afterCommit?.();
    for (const r of batch) r.m.ack();
  }

  private async processOne(r: Received<T>): Promise<void> {
    const { m, msgId } = r;
    const log = this.o.logger.child({ consumer: this.o.durable, subject: m.subject, msgId });
    try {
      await this.o.db.tx(async (sql) => {
        const fresh = await sql.query(
          `INSERT INTO "${this.o.db.schema}".processed_events (consumer, msg_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING RETURNING 1`,
          [this.o.durable, msgId],
        );
        if (fresh.length === 0) {
          log.debug('duplicate event ignored');
          return;
        }
        await this.o.handle(sql, r.event, this.meta(r));
      });
      this.o.afterCommit?.();
      m.ack();
    } catch (err) {
      const deliveries = m.info.deliveryCount;
      if (deliveries >= (this.o.maxDeliver ?? 20)) {
        log.error({ err, deliveries }, 'event failed too often; giving up on it');
        m.term('handler failed');
      } else {
        log.warn({ err, deliveries }, 'event handler failed; will be redelivered');
        m.nak(Math.min(30_000, 200 * 2 ** deliveries));
      }
    }
  }
}
