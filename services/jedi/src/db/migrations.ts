import { messagingMigration } from '@panda/platform';
import type { MigrationClass } from '@panda/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export const SCHEMA = 'jedi';

/** Append-only: never edit a migration that has shipped; add a new one. */
class Tasks1700000000100 implements MigrationInterface {
  name = 'Tasks1700000000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE jedi.tasks (
      task_id bigserial PRIMARY KEY,
      workflow_id bigint NOT NULL,
      name text NOT NULL,
      label text NOT NULL,
      chunk int NOT NULL DEFAULT 0,
      queue text NOT NULL,
      state text NOT NULL CHECK (state IN ('registered','defined','ready','pending','scouting','running',
        'prepared','done','finished','failed','paused','throttled','exhausted','finishing','aborting',
        'aborted','toretry')),
      priority int NOT NULL,
      max_attempts int NOT NULL,
      walltime_s int NOT NULL,
      inputs_total int NOT NULL DEFAULT 0,
      inputs_finished int NOT NULL DEFAULT 0,
      inputs_failed int NOT NULL DEFAULT 0,
      inputs_missing int NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      modified_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (workflow_id, name))`);
    await q.query(`CREATE TABLE jedi.task_inputs (
      input_id bigserial PRIMARY KEY,
      task_id bigint NOT NULL REFERENCES jedi.tasks(task_id),
      node_id bigint NOT NULL UNIQUE,
      name text NOT NULL,
      command text NOT NULL,
      memory_mb int NOT NULL,
      cores int NOT NULL,
      state text NOT NULL CHECK (state IN ('defined','picked','finished','failed','missing')),
      attempt_nr int NOT NULL DEFAULT 0,
      panda_id bigint,
      modified_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX task_inputs_task_state ON jedi.task_inputs (task_id, state)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE jedi.task_inputs`);
    await q.query(`DROP TABLE jedi.tasks`);
  }
}

/** Brokerage, retry module and task commands. */
class TaskEngine1700000000200 implements MigrationInterface {
  name = 'TaskEngine1700000000200';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jedi.tasks
      ADD COLUMN site text NOT NULL DEFAULT '',
      ADD COLUMN memory_multiplier double precision NOT NULL DEFAULT 0,
      ADD COLUMN memory_max_mb int NOT NULL DEFAULT 512000,
      ADD COLUMN pending_reason text NOT NULL DEFAULT '',
      ADD COLUMN old_state text,
      ADD COLUMN finish_hard boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE jedi.task_inputs DROP CONSTRAINT task_inputs_state_check`);
    await q.query(`ALTER TABLE jedi.task_inputs ADD CONSTRAINT task_inputs_state_check
      CHECK (state IN ('defined','ready','picked','finished','failed','missing'))`);
    await q.query(`ALTER TABLE jedi.task_inputs
      ADD COLUMN base_memory_mb int NOT NULL DEFAULT 0,
      ADD COLUMN walltime_s int NOT NULL DEFAULT 0,
      ADD COLUMN failed_attempts int NOT NULL DEFAULT 0,
      ADD COLUMN oom_failures int NOT NULL DEFAULT 0,
      ADD COLUMN queue text NOT NULL DEFAULT ''`);
    await q.query(`UPDATE jedi.task_inputs SET base_memory_mb = memory_mb`);
    await q.query(
      `CREATE INDEX tasks_state ON jedi.tasks (state) WHERE state IN ('pending', 'ready', 'running')`,
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jedi.tasks_state`);
    await q.query(`ALTER TABLE jedi.task_inputs DROP COLUMN base_memory_mb, DROP COLUMN walltime_s,
      DROP COLUMN failed_attempts, DROP COLUMN oom_failures, DROP COLUMN queue`);
    await q.query(`ALTER TABLE jedi.tasks DROP COLUMN site, DROP COLUMN memory_multiplier, DROP COLUMN memory_max_mb,
      DROP COLUMN pending_reason, DROP COLUMN old_state, DROP COLUMN finish_hard`);
  }
}

/**
 * An input changes state a few times (defined, picked, finished); with `state` in an index
 * every change wrote new entries in all its indexes. Inputs are found by (task, node) — the
 * state lookups (pending loop, commands) are per task and rare — so no index holds a column
 * that changes, and with room left on each page the changes are heap-only (HOT) updates.
 */
class InputsHotUpdates1700000000300 implements MigrationInterface {
  name = 'InputsHotUpdates1700000000300';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX jedi.task_inputs_task_state`);
    await q.query(`CREATE INDEX task_inputs_task_node ON jedi.task_inputs (task_id, node_id)`);
    await q.query(`ALTER TABLE jedi.task_inputs SET (fillfactor = 70)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE jedi.task_inputs RESET (fillfactor)`);
    await q.query(`DROP INDEX jedi.task_inputs_task_node`);
    await q.query(`CREATE INDEX task_inputs_task_state ON jedi.task_inputs (task_id, state)`);
  }
}

export const migrations: MigrationClass[] = [
  messagingMigration(SCHEMA),
  Tasks1700000000100,
  TaskEngine1700000000200,
  InputsHotUpdates1700000000300,
];
