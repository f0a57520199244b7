import pg from 'pg';
import { LABELS } from './monitor-plan.js';
import type { Plan } from './monitor-plan.js';
import {
  CREATE_ERRORS,
  CREATE_INPUTS,
  CREATE_METRICS,
  INSERT_EDGES,
  INSERT_JOBS,
  INSERT_NODES,
  INSERT_TASK_INPUTS,
  INSERT_WORKERS,
  UPDATE_COUNTS,
} from './monitor-sql.js';

/** The big tables: their secondary indexes are dropped during the load and rebuilt after it. */
const BULK_TABLES = ['server.jobs', 'idds.nodes', 'idds.edges', 'jedi.task_inputs'] as const;
const STAGING = ['bench_inputs', 'bench_errors', 'bench_metrics', 'bench_parents', 'bench_tasks', 'bench_wf'];

/**
 * Indexes the benchmark found missing, now in server's migration ErrorIndexes1700000000500;
 * `--extra-indexes` (re)creates them if absent, e.g. when measuring an older schema.
 */
export const RECOMMENDED_INDEXES = [
  // /jobs?errorCode: codes that only appear in `errors` (dispatcher, sup, taskbuffer, payload)
  // or are rare otherwise scan the table backwards (0.3-0.9 s per page over a million jobs).
  `CREATE INDEX IF NOT EXISTS jobs_errors ON server.jobs USING gin (errors jsonb_path_ops)`,
  // idds GetReport -> server CountJobs (exitCodesByTask): exit codes of a workflow's failed jobs
  // come from the heap, one page per failed job (~100 ms for a 50 000-job workflow).
  `CREATE INDEX IF NOT EXISTS jobs_task_failed_exit ON server.jobs (task_id, exit_code) WHERE state = 'failed' AND exit_code <> 0`,
] as const;

export interface LoadReport {
  seconds: number;
  steps: Record<string, number>;
  rows: Record<string, number>;
}

/**
 * Bulk-loads `plan` into the migrated schemas of server, jedi, idds and harvester with set-based
 * SQL (generate_series over the plan), then VACUUM ANALYZE. Foreign-key triggers are skipped
 * (session_replication_role = replica: the rows are consistent by construction) and secondary
 * indexes are rebuilt from their own definitions after the load, as a bulk load would do.
 */
export async function loadMonitorData(
  url: string,
  plan: Plan,
  log: (line: string) => void,
  extraIndexes: readonly string[] = [],
): Promise<LoadReport> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-monitor-load' });
  await client.connect();
  const steps: Record<string, number> = {};
  const started = performance.now();
  const step = async (name: string, sql: string, params: unknown[] = []): Promise<number> => {
    const t = performance.now();
    const res = await client.query(sql, params);
    const ms = performance.now() - t;
    steps[name] = Math.round(ms);
    const rows = Array.isArray(res)
      ? (res as pg.QueryResult[]).reduce((s, r) => s + (r.rowCount ?? 0), 0)
      : res.rowCount;
    log(`  ${name.padEnd(22)} ${String(rows ?? '').padStart(9)} rows  ${(ms / 1000).toFixed(1)} s`);
    return rows ?? 0;
  };
  try {
    await client.query(`SET session_replication_role = replica; SET work_mem = '256MB';
      SET maintenance_work_mem = '512MB'; SET max_parallel_maintenance_workers = 2; SET synchronous_commit = off;
      SET enable_mergejoin = off`);
    for (const t of STAGING) await client.query(`DROP TABLE IF EXISTS public.${t}`);
    const existing = await client.query<{ n: string }>(`SELECT count(*) AS n FROM idds.workflows`);
    if (Number(existing.rows[0]?.n) > 0)
      throw new Error('the database already holds workflows: load into a fresh stack');

    const indexes = await secondaryIndexes(client);
    for (const i of indexes) await client.query(`DROP INDEX ${i.name}`);
    await stagePlan(client, plan);

    await client.query('BEGIN');
    await step('idds.workflows', INSERT_WORKFLOWS);
    await step('idds.tasks', INSERT_IDDS_TASKS);
    await step('jedi.tasks', INSERT_JEDI_TASKS);
    await step('staging inputs', CREATE_INPUTS);
    await step('staging errors', CREATE_ERRORS);
    await step('staging metrics', CREATE_METRICS);
    await client.query(
      `ANALYZE public.bench_inputs, public.bench_errors, public.bench_metrics, public.bench_wf`,
    );
    await step('idds.nodes', INSERT_NODES);
    await step('idds.edges', INSERT_EDGES);
    const jobs = await step('server.jobs', INSERT_JOBS);
    await step('jedi.task_inputs', INSERT_TASK_INPUTS);
    await step('counts', UPDATE_COUNTS);
    await step('harvester.workers', INSERT_WORKERS);
    for (const [table, column] of SERIALS) {
      await client.query(
        `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), (SELECT max(${column}) FROM ${table}))`,
      );
    }
    for (const t of STAGING) await client.query(`DROP TABLE public.${t}`);
    await client.query('COMMIT');
    if (jobs !== plan.jobs) throw new Error(`loaded ${jobs} jobs, planned ${plan.jobs}`);

    let t = performance.now();
    for (const i of indexes) await client.query(i.def);
    for (const def of extraIndexes) {
      log(`  extra: ${def}`);
      await client.query(def);
    }
    steps['indexes'] = Math.round(performance.now() - t);
    log(
      `  ${'rebuild indexes'.padEnd(22)} ${String(indexes.length).padStart(9)} idx   ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    t = performance.now();
    await client.query(`VACUUM (ANALYZE) server.jobs, idds.workflows, idds.tasks, idds.nodes, idds.edges,
      jedi.tasks, jedi.task_inputs, harvester.workers`);
    steps['vacuum analyze'] = Math.round(performance.now() - t);
    log(
      `  ${'vacuum analyze'.padEnd(22)} ${''.padStart(9)}       ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    const rows: Record<string, number> = {};
    for (const table of [
      'server.jobs',
      'jedi.tasks',
      'jedi.task_inputs',
      'idds.workflows',
      'idds.nodes',
      'idds.edges',
      'harvester.workers',
    ]) {
      const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      rows[table] = Number(r.rows[0]?.n);
    }
    return { seconds: (performance.now() - started) / 1000, steps, rows };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

const SERIALS = [
  ['server.jobs', 'panda_id'],
  ['jedi.tasks', 'task_id'],
  ['jedi.task_inputs', 'input_id'],
  ['idds.workflows', 'workflow_id'],
  ['idds.tasks', 'task_ref'],
  ['idds.nodes', 'node_id'],
] as const;

/** Indexes of the bulk tables that back no constraint, with their CREATE INDEX statements. */
async function secondaryIndexes(client: pg.Client): Promise<{ name: string; def: string }[]> {
  const res = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i
      WHERE i.indrelid = ANY($1::regclass[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
      ORDER BY 1`,
    [BULK_TABLES],
  );
  return res.rows;
}

/** The plan as three small unlogged tables the set-based statements join. */
export async function stagePlan(client: pg.Client, plan: Plan): Promise<void> {
  const t0 = new Date();
  const w = plan.workflows;
  await client.query(
    `CREATE UNLOGGED TABLE public.bench_wf AS
     SELECT u.workflow_id, u.name, u.user_name, u.campaign, u.queue, u.state, u.first_panda, u.jobs, u.span_h,
            $1::timestamptz AS t0, $1::timestamptz - u.hours_ago * interval '1 hour' AS created
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                   $9::bigint[], $10::float8[], $11::float8[])
         AS u(workflow_id, name, user_name, campaign, queue, state, first_panda, jobs, span_h, hours_ago)`,
    [
      t0,
      w.map((x) => x.workflowId),
      w.map((x) => x.name),
      w.map((x) => x.user),
      w.map((x) => x.campaign),
      w.map((x) => x.queue),
      w.map((x) => x.state),
      w.map((x) => x.firstPandaId),
      w.map((x) => x.jobs),
      w.map((x) => x.spanHours),
      w.map((x) => x.createdHoursAgo),
    ],
  );
  const t = plan.tasks;
  const stateOf = new Map(w.map((x) => [x.workflowId, x.state]));
  const nameOf = new Map(w.map((x) => [x.workflowId, x.name]));
  await client.query(
    `CREATE UNLOGGED TABLE public.bench_tasks AS
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[],
                          $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[],
                          $14::bigint[], $15::int[], $16::int[], $17::int[], $18::text[], $19::int[])
       AS u(task_id, workflow_id, label_ix, label, task_name, queue, memory_mb, node_first, nodes, with_jobs, active,
            n3, n2, mult, fail_permille, pss_mb, duration_s, wf_state, n_parents)`,
    [
      t.map((x) => x.taskId),
      t.map((x) => x.workflowId),
      t.map((x) => x.labelIx),
      t.map((x) => x.label),
      t.map((x) => `${nameOf.get(x.workflowId)}_${String(x.labelIx + 1).padStart(2, '0')}_${x.label}_01`),
      t.map((x) => x.queue),
      t.map((x) => x.memoryMb),
      t.map((x) => x.nodeFirst),
      t.map((x) => x.nodes),
      t.map((x) => x.withJobs),
      t.map((x) => x.active),
      t.map((x) => x.n3),
      t.map((x) => x.n2),
      t.map((x) => x.mult),
      t.map((x) => x.failPermille),
      t.map((x) => LABELS[x.labelIx]!.pssMb),
      t.map((x) => LABELS[x.labelIx]!.durationS),
      t.map((x) => stateOf.get(x.workflowId) ?? 'Finished'),
      t.map((x) => x.parentTaskIds.length),
    ],
  );
  const byId = new Map(t.map((x) => [x.taskId, x]));
  const edges = t.flatMap((x) =>
    x.parentTaskIds.map((p) => [x.taskId, byId.get(p)!.nodeFirst, byId.get(p)!.nodes, x.nodes] as const),
  );
  await client.query(
    `CREATE UNLOGGED TABLE public.bench_parents AS
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
       AS u(task_id, parent_first, parent_nodes, child_nodes)`,
    [edges.map((e) => e[0]), edges.map((e) => e[1]), edges.map((e) => e[2]), edges.map((e) => e[3])],
  );
}

const INSERT_WORKFLOWS = `
INSERT INTO idds.workflows (workflow_id, name, user_name, campaign, queue, max_attempts, state, total,
                            created_at, updated_at)
SELECT workflow_id, name, user_name, campaign, queue, 3, state, 0, created, created FROM public.bench_wf`;

const INSERT_IDDS_TASKS = `
INSERT INTO idds.tasks (task_ref, workflow_id, name, label, chunk, jedi_task_id, queue, max_attempts, priority, walltime_s)
SELECT task_id, workflow_id, task_name, label, 1, task_id, queue, 3, 500, 86400 FROM public.bench_tasks`;

const INSERT_JEDI_TASKS = `
INSERT INTO jedi.tasks (task_id, workflow_id, name, label, chunk, queue, state, priority, max_attempts, walltime_s,
                        created_at, modified_at)
SELECT t.task_id, t.workflow_id, t.task_name, t.label, 1, t.queue, 'ready', 500, 3, 86400, w.created, w.created
  FROM public.bench_tasks t JOIN public.bench_wf w USING (workflow_id)`;
