import type { MigrationClass } from '@panda/platform';
import { messagingMigration } from '@panda/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The `workers` table: one row per pilot harvester started. */
export function workersMigration(schema: string): MigrationClass {
  return class Workers1730000000000 implements MigrationInterface {
    name = 'Workers1730000000000';
    async up(q: QueryRunner): Promise<void> {
      await q.query(`CREATE TABLE "${schema}".workers (
        worker_id text PRIMARY KEY,
        queue text NOT NULL,
        state text NOT NULL CHECK (state IN ('submitted','running','idle','finished','failed','cancelled','missed')),
        submitter text NOT NULL,
        batch_id text NOT NULL DEFAULT '',
        cores integer NOT NULL DEFAULT 1,
        memory_mb integer NOT NULL DEFAULT 0,
        submitted_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        ended_at timestamptz,
        state_changed_at timestamptz NOT NULL DEFAULT now(),
        exit_code integer,
        diag text NOT NULL DEFAULT '',
        native_status text NOT NULL DEFAULT '')`);
      await q.query(`CREATE INDEX workers_active_idx ON "${schema}".workers (submitter, queue)
        WHERE state IN ('submitted','running','idle')`);
      await q.query(
        `CREATE INDEX workers_queue_state_idx ON "${schema}".workers (queue, state, submitted_at DESC)`,
      );
      await q.query(`CREATE INDEX workers_submitted_at_idx ON "${schema}".workers (submitted_at DESC)`);
    }
    async down(q: QueryRunner): Promise<void> {
      await q.query(`DROP TABLE "${schema}".workers`);
    }
  };
}

/** Supervisor error code of a worker (1212 = out of memory), set by the plugins' monitors. */
export function workerErrorCodeMigration(schema: string): MigrationClass {
  return class WorkerErrorCode1740000000000 implements MigrationInterface {
    name = 'WorkerErrorCode1740000000000';
    async up(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE "${schema}".workers ADD COLUMN error_code integer`);
    }
    async down(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE "${schema}".workers DROP COLUMN error_code`);
    }
  };
}

/**
 * The walltime a worker was submitted with (s; 0 = no limit asked for) and where its own log is
 * (`file://` path of the pilot's output, or a Kubernetes API path; '' when unknown).
 */
export function workerWalltimeLogMigration(schema: string): MigrationClass {
  return class WorkerWalltimeLog1750000000000 implements MigrationInterface {
    name = 'WorkerWalltimeLog1750000000000';
    async up(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE "${schema}".workers
        ADD COLUMN walltime_s integer NOT NULL DEFAULT 0,
        ADD COLUMN log_url text NOT NULL DEFAULT ''`);
    }
    async down(q: QueryRunner): Promise<void> {
      await q.query(`ALTER TABLE "${schema}".workers DROP COLUMN log_url, DROP COLUMN walltime_s`);
    }
  };
}

/** Every migration of the harvester schema, in order. */
export const harvesterMigrations = (schema: string): MigrationClass[] => [
  messagingMigration(schema),
  workersMigration(schema),
  workerErrorCodeMigration(schema),
  workerWalltimeLogMigration(schema),
];
