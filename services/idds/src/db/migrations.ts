import { messagingMigration } from '@panda/platform';
import type { MigrationClass } from '@panda/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export const SCHEMA = 'idds';

/** Append-only: never edit a migration that has shipped; add a new one. */
class Workflows1700000000100 implements MigrationInterface {
  name = 'Workflows1700000000100';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE idds.workflows (
      workflow_id bigserial PRIMARY KEY,
      name text NOT NULL,
      user_name text NOT NULL,
      campaign text NOT NULL,
      queue text NOT NULL,
      max_attempts int NOT NULL,
      state text NOT NULL CHECK (state IN ('New','Transforming','Finished','SubFinished','Failed','Cancelled')),
      total int NOT NULL,
      released int NOT NULL DEFAULT 0,
      finished int NOT NULL DEFAULT 0,
      failed int NOT NULL DEFAULT 0,
      pruned int NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX workflows_state ON idds.workflows (state, workflow_id)`);
    await q.query(`CREATE INDEX workflows_user ON idds.workflows (user_name, workflow_id)`);
    await q.query(`CREATE TABLE idds.tasks (
      task_ref bigserial PRIMARY KEY,
      workflow_id bigint NOT NULL REFERENCES idds.workflows(workflow_id),
      name text NOT NULL,
      label text NOT NULL,
      chunk int NOT NULL,
      jedi_task_id bigint,
      UNIQUE (workflow_id, name))`);
    await q.query(`CREATE TABLE idds.nodes (
      node_id bigserial PRIMARY KEY,
      workflow_id bigint NOT NULL REFERENCES idds.workflows(workflow_id),
      task_ref bigint NOT NULL REFERENCES idds.tasks(task_ref),
      name text NOT NULL,
      label text NOT NULL,
      command text NOT NULL,
      memory_mb int NOT NULL,
      cores int NOT NULL,
      state text NOT NULL CHECK (state IN ('unreleased','released','finished','failed','pruned')),
      n_parents int NOT NULL,
      n_parents_done int NOT NULL DEFAULT 0,
      UNIQUE (workflow_id, name))`);
    await q.query(`CREATE INDEX nodes_workflow_label_state ON idds.nodes (workflow_id, label, state)`);
    await q.query(`CREATE TABLE idds.edges (
      parent_id bigint NOT NULL REFERENCES idds.nodes(node_id),
      child_id bigint NOT NULL REFERENCES idds.nodes(node_id),
      PRIMARY KEY (parent_id, child_id))`);
    await q.query(`CREATE INDEX edges_child ON idds.edges (child_id)`);
  }
  async down(q: QueryRunner): Promise<void> {
    for (const t of ['edges', 'nodes', 'tasks', 'workflows']) await q.query(`DROP TABLE idds.${t}`);
  }
}

/** Brokerage and memory-boost settings passed on to jedi's tasks. */
class WorkflowRetry1700000000200 implements MigrationInterface {
  name = 'WorkflowRetry1700000000200';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idds.workflows
      ADD COLUMN site text NOT NULL DEFAULT '',
      ADD COLUMN memory_multiplier double precision NOT NULL DEFAULT 0,
      ADD COLUMN memory_max_mb int NOT NULL DEFAULT 0`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE idds.workflows DROP COLUMN site, DROP COLUMN memory_multiplier, DROP COLUMN memory_max_mb`,
    );
  }
}

/** Per-label task settings, the final job, and pruning only once every parent is settled. */
class LabelsFinalJob1700000000300 implements MigrationInterface {
  name = 'LabelsFinalJob1700000000300';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idds.tasks
      ADD COLUMN queue text NOT NULL DEFAULT '',
      ADD COLUMN site text NOT NULL DEFAULT '',
      ADD COLUMN max_attempts int NOT NULL DEFAULT 0,
      ADD COLUMN priority int NOT NULL DEFAULT 0,
      ADD COLUMN walltime_s int NOT NULL DEFAULT 0,
      ADD COLUMN memory_multiplier double precision NOT NULL DEFAULT 0,
      ADD COLUMN memory_max_mb int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE idds.nodes
      ADD COLUMN n_parents_dead int NOT NULL DEFAULT 0,
      ADD COLUMN is_final boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE idds.workflows ADD COLUMN final_when text NOT NULL DEFAULT ''
      CHECK (final_when IN ('', 'ALWAYS', 'SUCCESS'))`);
    await q.query(`CREATE INDEX nodes_final ON idds.nodes (workflow_id) WHERE is_final`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idds.nodes_final`);
    await q.query(`ALTER TABLE idds.workflows DROP COLUMN final_when`);
    await q.query(`ALTER TABLE idds.nodes DROP COLUMN n_parents_dead, DROP COLUMN is_final`);
    await q.query(`ALTER TABLE idds.tasks DROP COLUMN queue, DROP COLUMN site, DROP COLUMN max_attempts,
      DROP COLUMN priority, DROP COLUMN walltime_s, DROP COLUMN memory_multiplier, DROP COLUMN memory_max_mb`);
  }
}

class CampaignIndex1700000000400 implements MigrationInterface {
  name = 'CampaignIndex1700000000400';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX workflows_campaign ON idds.workflows (campaign, workflow_id)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idds.workflows_campaign`);
  }
}

/** Activation pages a task's nodes in id order. */
class NodesByTask1700000000500 implements MigrationInterface {
  name = 'NodesByTask1700000000500';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX nodes_task_ref ON idds.nodes (task_ref, node_id)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idds.nodes_task_ref`);
  }
}

/**
 * Foreign keys off the DAG tables: every node and edge row takes its ids from the rows it
 * refers to in the same statement, and nothing deletes a workflow's rows one by one, so the
 * checks only cost a lookup and a row lock per row — about half of a big ingestion's time.
 */
class DagWithoutForeignKeys1700000000600 implements MigrationInterface {
  name = 'DagWithoutForeignKeys1700000000600';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idds.edges DROP CONSTRAINT edges_parent_id_fkey,
      DROP CONSTRAINT edges_child_id_fkey`);
    await q.query(`ALTER TABLE idds.nodes DROP CONSTRAINT nodes_workflow_id_fkey,
      DROP CONSTRAINT nodes_task_ref_fkey`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idds.nodes ADD FOREIGN KEY (workflow_id) REFERENCES idds.workflows(workflow_id),
      ADD FOREIGN KEY (task_ref) REFERENCES idds.tasks(task_ref)`);
    await q.query(`ALTER TABLE idds.edges ADD FOREIGN KEY (parent_id) REFERENCES idds.nodes(node_id),
      ADD FOREIGN KEY (child_id) REFERENCES idds.nodes(node_id)`);
  }
}

/**
 * Staged fan-out: a child whose only parent has a wide fan-out is `staged` (its job made at
 * submission, waiting for that parent); the parent is marked as a gate.
 */
class StagedNodes1700000000700 implements MigrationInterface {
  name = 'StagedNodes1700000000700';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idds.nodes DROP CONSTRAINT nodes_state_check,
      ADD CONSTRAINT nodes_state_check
        CHECK (state IN ('unreleased','staged','released','finished','failed','pruned')),
      ADD COLUMN is_gate boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX nodes_gates ON idds.nodes (workflow_id) WHERE is_gate`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idds.nodes_gates`);
    await q.query(`UPDATE idds.nodes SET state = 'unreleased' WHERE state = 'staged'`);
    await q.query(`ALTER TABLE idds.nodes DROP COLUMN is_gate, DROP CONSTRAINT nodes_state_check,
      ADD CONSTRAINT nodes_state_check
        CHECK (state IN ('unreleased','released','finished','failed','pruned'))`);
  }
}

/**
 * Who is activating a New workflow, until when: a big activation takes longer than the
 * resumer's period, and a second one running beside it only waits on the first's rows.
 */
class ActivationLease1700000000800 implements MigrationInterface {
  name = 'ActivationLease1700000000800';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idds.workflows ADD COLUMN activation_lease timestamptz`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idds.workflows DROP COLUMN activation_lease`);
  }
}

export const migrations: MigrationClass[] = [
  messagingMigration(SCHEMA),
  Workflows1700000000100,
  WorkflowRetry1700000000200,
  LabelsFinalJob1700000000300,
  CampaignIndex1700000000400,
  NodesByTask1700000000500,
  DagWithoutForeignKeys1700000000600,
  StagedNodes1700000000700,
  ActivationLease1700000000800,
];
