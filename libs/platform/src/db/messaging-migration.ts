import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { MigrationClass } from './database.js';

/**
 * The tables the bus needs in every service schema: the transactional outbox and the
 * record of processed events (consumer idempotency). Named with a fixed timestamp so it
 * sorts before each service's own migrations.
 */
export function messagingMigration(schema: string): MigrationClass {
  return class Messaging1700000000000 implements MigrationInterface {
    name = 'Messaging1700000000000';
    async up(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE "${schema}".outbox (
        id bigserial PRIMARY KEY,
        msg_id uuid NOT NULL DEFAULT gen_random_uuid(),
        subject text NOT NULL,
        payload bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())`);
      await q.query(`CREATE TABLE "${schema}".processed_events (
        consumer text NOT NULL,
        msg_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, msg_id))`);
      await q.query(`CREATE INDEX ON "${schema}".processed_events (processed_at)`);
    }
    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP TABLE "${schema}".processed_events`);
      await q.query(`DROP TABLE "${schema}".outbox`);
    }
  };
}
