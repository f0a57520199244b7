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

export const migrations: MigrationClass[] = [messagingMigration(SCHEMA), Tasks1700000000100];
