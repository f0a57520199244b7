import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startNats } from './nats.js';
import { isPortOpen } from './ports.js';
import { createDatabase, startPostgres } from './postgres.js';
import { isAlive } from './proc.js';

describe('globalSetup PostgreSQL', () => {
  it('answers SELECT 1 on database panda', async () => {
    const client = new pg.Client({ connectionString: inject('pgUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<{ one: number; db: string; max: string }>(
        "SELECT 1 AS one, current_database() AS db, current_setting('max_connections') AS max",
      );
      expect(rows).toEqual([{ one: 1, db: 'panda', max: '200' }]);
    } finally {
      await client.end();
    }
  });

  it('creates extra databases for isolated tests', async () => {
    const url = await createDatabase(inject('pgUrl'), `iso_${process.pid}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(rows[0]?.db).toBe(`iso_${process.pid}`);
    } finally {
      await client.end();
    }
  });
});

describe('globalSetup nats-server', () => {
  it('publishes to a JetStream stream and consumes with a durable consumer', async () => {
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = `TESTKIT_${process.pid}`;
      await jsm.streams.add({ name: stream, subjects: [`testkit.${process.pid}.>`] });
      await jsm.consumers.add(stream, { durable_name: 'c1', ack_policy: 'explicit' });
      const js = jetstream(nc);
      const first = await js.publish(`testkit.${process.pid}.a`, 'hello', { msgID: 'm1' });
      const again = await js.publish(`testkit.${process.pid}.a`, 'hello', { msgID: 'm1' });
      expect(again.duplicate).toBe(true);
      expect(again.seq).toBe(first.seq);
      await js.publish(`testkit.${process.pid}.b`, 'world');

      const consumer = await js.consumers.get(stream, 'c1');
      const messages = await consumer.consume();
      const seen: string[] = [];
      for await (const m of messages) {
        seen.push(`${m.subject.split('.').pop()}:${m.string()}`);
        m.ack();
        if (seen.length === 2) break;
      }
      expect(seen).toEqual(['a:hello', 'b:world']);
    } finally {
      await nc.drain();
    }
  });
});

describe('startPostgres / startNats lifecycle', () => {
  // A mkdtemp folder is 0700 and owned by root: the postgres user cannot enter it, so the
  // server folder must fall back to the OS temp folder.
  const base = mkdtempSync(join(tmpdir(), 'testkit-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('stop() leaves no process, port or folder behind', async () => {
    const [db, nats] = await Promise.all([startPostgres({ baseDir: base }), startNats({ baseDir: base })]);
    expect(await isPortOpen(db.port)).toBe(true);
    expect(await isPortOpen(nats.port)).toBe(true);
    expect(isAlive(db.pid) && isAlive(nats.pid)).toBe(true);

    await Promise.all([db.stop(), nats.stop(), db.stop()]);
    expect(isAlive(db.pid) || isAlive(nats.pid)).toBe(false);
    expect(await isPortOpen(db.port)).toBe(false);
    expect(await isPortOpen(nats.port)).toBe(false);
    expect(existsSync(db.dir) || existsSync(nats.dir)).toBe(false);
  });
});
