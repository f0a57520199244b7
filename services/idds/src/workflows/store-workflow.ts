import type { Sql } from '@panda/platform';
import type { JobSpec, WorkflowSpec } from '@panda/proto';
import type { PlannedTask } from './plan-tasks.js';
import { taskSettings } from './resolve.js';

/**
 * Stores a validated workflow in one transaction, in bulk (one statement per table, arrays
 * through unnest): the workflow in state New, its tasks with their settings, nodes and edges.
 */
export async function storeWorkflow(
  sql: Sql,
  wf: WorkflowSpec,
  tasks: PlannedTask[],
  finalNode: JobSpec | undefined,
  defaultMaxAttempts: number,
): Promise<number> {
  const total = tasks.reduce((n, t) => n + t.jobs.length, 0);
  const [row] = await sql.query<{ workflow_id: string }>(
    `INSERT INTO idds.workflows (name, user_name, campaign, queue, max_attempts, state, total, site,
       memory_multiplier, memory_max_mb, final_when)
     VALUES ($1, $2, $3, $4, $5, 'New', $6, $7, $8, $9, $10) RETURNING workflow_id`,
    [
      wf.name,
      wf.user,
      wf.campaign,
      wf.queue,
      wf.maxAttempts || defaultMaxAttempts,
      total,
      wf.site,
      wf.memoryMultiplier,
      wf.memoryMaxMb,
      finalNode ? wf.finalJob!.whenRun || 'ALWAYS' : '',
    ],
  );
  const id = row!.workflow_id;
  const settings = tasks.map((t) => taskSettings(wf, t.label, defaultMaxAttempts));
  const col = <K extends keyof (typeof settings)[number]>(k: K) => settings.map((s) => s[k]);
  const refs = await sql.query<{ task_ref: string; name: string }>(
    `INSERT INTO idds.tasks (workflow_id, name, label, chunk, queue, site, max_attempts, priority, walltime_s,
       memory_multiplier, memory_max_mb)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[], $8::int[],
       $9::int[], $10::float8[], $11::int[])
     RETURNING task_ref, name`,
    [
      id,
      tasks.map((t) => t.name),
      tasks.map((t) => t.label),
      tasks.map((t) => t.chunk),
      col('queue'),
      col('site'),
      col('maxAttempts'),
      col('priority'),
      col('walltimeS'),
      col('memoryMultiplier'),
      col('memoryMaxMb'),
    ],
  );
  const refOf = new Map(refs.map((r) => [r.name, r.task_ref]));
  const nodeTask = tasks.flatMap((t) => t.jobs.map(() => refOf.get(t.name)!));
  const jobs = tasks.flatMap((t) => t.jobs);
  await sql.query(
    `INSERT INTO idds.nodes (workflow_id, task_ref, name, label, command, memory_mb, cores, state, n_parents, is_final)
     SELECT $1, r, n, l, c, m, k, 'unreleased', p, f
     FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::bool[])
       AS u(r, n, l, c, m, k, p, f)`,
    [
      id,
      nodeTask,
      jobs.map((j) => j.name),
      jobs.map((j) => j.label),
      jobs.map((j) => j.command),
      jobs.map((j) => j.memoryMb),
      jobs.map((j) => j.cores),
      jobs.map((j) => j.parents.length),
      jobs.map((j) => j === finalNode),
    ],
  );
  const edges = jobs.flatMap((j) => j.parents.map((p) => [p, j.name] as const));
  await sql.query(
    `INSERT INTO idds.edges (parent_id, child_id)
     SELECT p.node_id, c.node_id FROM unnest($2::text[], $3::text[]) AS e(pn, cn)
     JOIN idds.nodes p ON p.workflow_id = $1 AND p.name = e.pn
     JOIN idds.nodes c ON c.workflow_id = $1 AND c.name = e.cn`,
    [id, edges.map((e) => e[0]), edges.map((e) => e[1])],
  );
  return Number(id);
}
