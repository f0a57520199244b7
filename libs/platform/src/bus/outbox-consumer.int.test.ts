import { randomBytes } from 'node:crypto';
import { createDatabase } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Database } from '../db/database.js';
import { messagingMigration } from '../db/messaging-migration.js';
import { createLogger } from '../logging/logger.js';
import { closeBus, connectBus, ensureStream } from './connect.js';
import type { Bus } from './connect.js';
import { EventConsumer } from './consumer.js';
import { Outbox } from './outbox.js';

const logger = createLogger({ service: 'test', level: 'warn' });
const text = { decode: (b: Uint8Array) => Buffer.from(b).toString('utf8') };
const until = async (cond: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('transactional outbox and idempotent consumer', () => {
  const id = randomBytes(4).toString('hex');
  const stream = `T${id}`;
  const subject = `t${id}`;
  let db: Database;
  let bus: Bus;
  const stop = new AbortController();

  beforeAll(async () => {
    const url = await createDatabase(inject('pgUrl'), `bus_${id}`);
    db = await Database.connect({ url, schema: 'bustest', migrations: [messagingMigration('bustest')] });
    await db.migrate();
    await db.query(`CREATE TABLE bustest.seen (body text NOT NULL)`);
    bus = await connectBus({ url: inject('natsUrl'), name: 'test', logger });
    await ensureStream(bus.jsm, {
      name: stream,
      subjects: [`${subject}.>`],
      maxAgeMs: 60_000,
      duplicateWindowMs: 1000,
    });
  });
  afterAll(async () => {
    stop.abort();
    await closeBus(bus);
    await db.close();
  });

  it('publishes only committed events, and a handler sees each message once', async () => {
    const outbox = new Outbox(db, bus.js, logger, { pollMs: 50 });
    outbox.start(stop.signal);
    let failOnce = true;
    const consumer = new EventConsumer({
      db,
      js: bus.js,
      jsm: bus.jsm,
      logger,
      stream,
      durable: `c${id}`,
      filterSubject: `${subject}.>`,
      decoder: text,
      handle: async (sql, body) => {
        if (body === 'flaky' && failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
        await sql.query(`INSERT INTO bustest.seen (body) VALUES ($1)`, [body]);
      },
    });
    await consumer.start();

    // given a committed transaction with two events and a rolled-back one
    await outbox.tx((sql) =>
      outbox.write(sql, [
        { subject: `${subject}.a`, payload: Buffer.from('one') },
        { subject: `${subject}.b`, payload: Buffer.from('flaky') },
      ]),
    );
    await expect(
      outbox.tx(async (sql) => {
        await outbox.write(sql, [{ subject: `${subject}.a`, payload: Buffer.from('rolled-back') }]);
        throw new Error('abort the transaction');
      }),
    ).rejects.toThrow('abort the transaction');

    // then both committed events are handled exactly once (the flaky one after a redelivery)
    await until(async () => (await db.query(`SELECT 1 FROM bustest.seen`)).length >= 2);
    const seen = await db.query<{ body: string }>(`SELECT body FROM bustest.seen ORDER BY body`);
    expect(seen.map((r) => r.body)).toEqual(['flaky', 'one']);
    expect(await db.query(`SELECT 1 FROM bustest.outbox`)).toHaveLength(0);

    // when a message is published again with an id already processed (after the dedupe window)
    const [processed] = await db.query<{ msg_id: string }>(
      `SELECT msg_id FROM bustest.processed_events ORDER BY processed_at LIMIT 1`,
    );
    await new Promise((r) => setTimeout(r, 1200));
    const ack = await bus.js.publish(`${subject}.a`, Buffer.from('one'), { msgID: processed!.msg_id });
    expect(ack.duplicate).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    // then the consumer acknowledges it without handling it again
    expect(await db.query(`SELECT 1 FROM bustest.seen`)).toHaveLength(2);
    const info = await bus.jsm.consumers.info(stream, `c${id}`);
    expect(info.num_ack_pending + info.num_pending).toBe(0);

    await consumer.stop();
    stop.abort();
    await outbox.stopped();
  });

  it('handles a backlog in coalesced batches, and a poison message alone', async () => {
    // given 300 messages published before the consumer starts, one of them poison
    const bodies = Array.from({ length: 300 }, (_, i) => (i === 150 ? 'poison' : `m${i}`));
    await Promise.all(
      bodies.map((b, i) => bus.js.publish(`${subject}.batch`, Buffer.from(b), { msgID: `batch-${id}-${i}` })),
    );
    const calls: number[] = [];
    const consumer = new EventConsumer<string>({
      db,
      js: bus.js,
      jsm: bus.jsm,
      logger: createLogger({ service: 'test', level: 'silent' }),
      stream,
      durable: `b${id}`,
      filterSubject: `${subject}.batch`,
      decoder: text,
      maxDeliver: 2,
      coalesce: (events) => [events.join(',')],
      handle: async (sql, joined) => {
        const list = joined.split(',');
        calls.push(list.length);
        if (list.includes('poison')) throw new Error('poison');
        await sql.query(`INSERT INTO bustest.seen (body) SELECT unnest($1::text[])`, [list]);
      },
    });
    // when it starts
    await consumer.start();
    await until(
      async () => (await db.query(`SELECT 1 FROM bustest.seen WHERE body LIKE 'm%'`)).length === 299,
    );
    // (the poison message is retried alone, then given up after maxDeliver)
    await until(async () => {
      const info = await bus.jsm.consumers.info(stream, `b${id}`);
      return info.num_pending === 0 && info.num_redelivered > 0;
    });
    await consumer.stop();

    // then every good message is stored exactly once, the poison one never
    const seen = await db.query<{ body: string; n: string }>(
      `SELECT body, count(*) AS n FROM bustest.seen WHERE body LIKE 'm%' OR body = 'poison' GROUP BY body`,
    );
    expect(seen).toHaveLength(299);
    expect(seen.every((r) => Number(r.n) === 1)).toBe(true);
    // and the backlog went in batches (far fewer transactions than messages)
    expect(Math.max(...calls)).toBeGreaterThan(1);
    expect(calls.length).toBeLessThan(200);
  });
});
