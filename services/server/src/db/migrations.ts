import { messagingMigration } from '@panda/platform';
import type { MigrationClass } from '@panda/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export const SCHEMA = 'server';

/** Append-only: never edit a migration that has shipped; add a new one. */
class Jobs1700000000100 implements MigrationInterface {
  name = 'Jobs1700000000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE server.jobs (
      panda_id bigserial PRIMARY KEY,
      task_id bigint NOT NULL,
      input_id bigint NOT NULL,
      workflow_id bigint NOT NULL,
      label text NOT NULL,
      name text NOT NULL,
      command text NOT NULL,
      queue text NOT NULL,
      state text NOT NULL CHECK (state IN ('pending','defined','activated','throttled','sent','starting',
        'running','holding','transferring','finished','failed','cancelled','closed')),
      attempt_nr int NOT NULL,
      max_attempts int NOT NULL,
      memory_mb int NOT NULL,
      cores int NOT NULL,
      priority int NOT NULL,
      walltime_s int NOT NULL,
      exit_code int NOT NULL DEFAULT 0,
      error_code int NOT NULL DEFAULT 0,
      error_diag text NOT NULL DEFAULT '',
      worker_id text NOT NULL DEFAULT '',
      node text NOT NULL DEFAULT '',
      command_to_pilot text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      state_changed_at timestamptz NOT NULL DEFAULT now(),
      modified_at timestamptz NOT NULL DEFAULT now(),
      start_time timestamptz,
      end_time timestamptz,
      UNIQUE (input_id, attempt_nr))`);
    // Dispatch reads only activated jobs of one queue, best priority first.
    await q.query(`CREATE INDEX jobs_dispatch ON server.jobs (queue, priority DESC, panda_id)
      WHERE state = 'activated'`);
    await q.query(`CREATE INDEX jobs_task_state ON server.jobs (task_id, state)`);
    await q.query(`CREATE INDEX jobs_workflow ON server.jobs (workflow_id, panda_id)`);
    await q.query(`CREATE INDEX jobs_active_queue ON server.jobs (queue, state)
      WHERE state IN ('activated','throttled','sent','starting','running','holding','transferring')`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE server.jobs`);
  }
}

/** Every error pair of a job, and the pilot's measurements. */
class JobErrorsMetrics1700000000200 implements MigrationInterface {
  name = 'JobErrorsMetrics1700000000200';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE server.jobs ADD COLUMN errors jsonb NOT NULL DEFAULT '[]',
      ADD COLUMN metrics jsonb`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE server.jobs DROP COLUMN errors, DROP COLUMN metrics`);
  }
}

/** How a killed running job ends once its pilot reports (cancelled or closed, by kill code). */
class JobKillState1700000000300 implements MigrationInterface {
  name = 'JobKillState1700000000300';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE server.jobs ADD COLUMN kill_state text
      CHECK (kill_state IN ('cancelled', 'closed'))`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE server.jobs DROP COLUMN kill_state`);
  }
}

/** Indexes for the monitor's pages over millions of jobs (keyset pagination, error window). */
class MonitorIndexes1700000000400 implements MigrationInterface {
  name = 'MonitorIndexes1700000000400';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX jobs_final_error_time ON server.jobs (state_changed_at DESC)
      WHERE state IN ('failed', 'cancelled', 'closed')`);
    await q.query(`CREATE INDEX jobs_task_pandaid ON server.jobs (task_id, panda_id DESC)`);
    await q.query(`CREATE INDEX jobs_state_pandaid ON server.jobs (state, panda_id DESC)`);
    await q.query(`CREATE INDEX jobs_queue_pandaid ON server.jobs (queue, panda_id DESC)`);
    await q.query(
      `CREATE INDEX jobs_error_code ON server.jobs (error_code, panda_id DESC) WHERE error_code <> 0`,
    );
    await q.query(`CREATE INDEX jobs_worker ON server.jobs (worker_id) WHERE worker_id <> ''`);
  }
  async down(q: QueryRunner): Promise<void> {
    for (const i of [
      'jobs_final_error_time',
      'jobs_task_pandaid',
      'jobs_state_pandaid',
      'jobs_queue_pandaid',
      'jobs_error_code',
      'jobs_worker',
    ]) {
      await q.query(`DROP INDEX server.${i}`);
    }
  }
}

/** Error-code lookups in the error pairs, and failed exit codes per task (the report). */
class ErrorIndexes1700000000500 implements MigrationInterface {
  name = 'ErrorIndexes1700000000500';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX jobs_errors ON server.jobs USING gin (errors jsonb_path_ops)`);
    await q.query(`CREATE INDEX jobs_task_failed_exit ON server.jobs (task_id, exit_code)
      WHERE state = 'failed' AND exit_code <> 0`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX server.jobs_errors`);
    await q.query(`DROP INDEX server.jobs_task_failed_exit`);
  }
}

/**
 * A job row changes state three or four times, and every change writes a new entry in every
 * index the row is in. Leaner: (task_id, state) goes (task_pandaid serves those lookups),
 * the error-pairs index holds only jobs with errors, and pages keep room for heartbeats to
 * update in place.
 */
class LeanerJobIndexes1700000000600 implements MigrationInterface {
  name = 'LeanerJobIndexes1700000000600';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX server.jobs_task_state`);
    await q.query(`DROP INDEX server.jobs_errors`);
    await q.query(`CREATE INDEX jobs_errors ON server.jobs USING gin (errors jsonb_path_ops)
      WHERE errors <> '[]'::jsonb`);
    await q.query(`ALTER TABLE server.jobs SET (fillfactor = 85)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE server.jobs RESET (fillfactor)`);
    await q.query(`DROP INDEX server.jobs_errors`);
    await q.query(`CREATE INDEX jobs_errors ON server.jobs USING gin (errors jsonb_path_ops)`);
    await q.query(`CREATE INDEX jobs_task_state ON server.jobs (task_id, state)`);
  }
}

/**
 * Staged jobs: made ahead of their release in `defined`, behind a gate (the DAG node that is
 * their one parent), and activated in one statement when it finishes. `activated_at` says
 * when a job became dispatchable, the start of release latency as users see it.
 */
class StagedJobs1700000000700 implements MigrationInterface {
  name = 'StagedJobs1700000000700';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE server.jobs ADD COLUMN gate_node_id bigint NOT NULL DEFAULT 0,
      ADD COLUMN activated_at timestamptz`);
    await q.query(`CREATE INDEX jobs_gate ON server.jobs (task_id, gate_node_id) WHERE state = 'defined'`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX server.jobs_gate`);
    await q.query(`ALTER TABLE server.jobs DROP COLUMN gate_node_id, DROP COLUMN activated_at`);
  }
}

/**
 * Open gates: a row makes every job still `defined` behind the gate dispatchable at once;
 * `opened_at` is their activation time. It goes when none is left `defined`.
 */
class OpenGates1700000000800 implements MigrationInterface {
  name = 'OpenGates1700000000800';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE server.open_gates (
      task_id bigint NOT NULL,
      gate_node_id bigint NOT NULL,
      workflow_id bigint NOT NULL,
      opened_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (task_id, gate_node_id))`);
    // Pilots take a gate's jobs in id order from the front, its activation from the back.
    await q.query(`DROP INDEX server.jobs_gate`);
    await q.query(
      `CREATE INDEX jobs_gate ON server.jobs (task_id, gate_node_id, panda_id) WHERE state = 'defined'`,
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX server.jobs_gate`);
    await q.query(`CREATE INDEX jobs_gate ON server.jobs (task_id, gate_node_id) WHERE state = 'defined'`);
    await q.query(`DROP TABLE server.open_gates`);
  }
}

export const migrations: MigrationClass[] = [
  messagingMigration(SCHEMA),
  Jobs1700000000100,
  JobErrorsMetrics1700000000200,
  JobKillState1700000000300,
  MonitorIndexes1700000000400,
  ErrorIndexes1700000000500,
  LeanerJobIndexes1700000000600,
  StagedJobs1700000000700,
  OpenGates1700000000800,
];
