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
  /** Called after the transaction committed (e.g. to wake an outbox relay). */
  afterCommit?: () => void;
  stream?: string;
  maxDeliver?: number;
  ackWaitMs?: number;
}

const nanos = (ms: number) => ms * 1_000_000;

/**
 * A durable pull consumer with explicit ack. Each message is handled in one database
 * transaction together with an insert into `<schema>.processed_events`; a redelivered
 * message finds its row and changes nothing twice. Ack only after commit.
 */
export class EventConsumer<T> {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: EventConsumerOptions<T>) {}

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
    this.loop = this.run(this.messages);
  }

  /** Stops fetching and waits for the message in hand to be finished. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      await this.process(m);
    }
  }

  private async process(m: JsMsg): Promise<void> {
    const msgId = m.headers?.get('Nats-Msg-Id') || `${m.info.stream}:${m.seq}`;
    const log = this.o.logger.child({ consumer: this.o.durable, subject: m.subject, msgId });
    let event: T;
    try {
      event = this.o.decoder.decode(m.data);
    } catch (err) {
      log.error({ err }, 'undecodable event dropped');
      m.term('undecodable');
      return;
    }
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
        await this.o.handle(sql, event, { subject: m.subject, msgId, seq: m.seq });
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
