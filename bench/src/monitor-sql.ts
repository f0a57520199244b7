/**
 * The set-based statements of the monitor benchmark's load (monitor-load.ts runs them in order).
 * They read the plan from unlogged staging tables in `public` (bench_wf, bench_tasks,
 * bench_parents) and write the services' own tables.
 */

/** Every DAG node (= task input) of every task, with how its jobs end. */
export const CREATE_INPUTS = `
CREATE UNLOGGED TABLE public.bench_inputs AS
SELECT x.*, CASE
    WHEN NOT x.has_jobs THEN CASE WHEN x.wf_state = 'Transforming' THEN 'unreleased' ELSE 'pruned' END
    WHEN x.is_active AND x.wf_state = 'Cancelled' THEN CASE WHEN x.h % 10 < 7 THEN 'cancelled' ELSE 'closed' END
    WHEN x.is_active THEN CASE WHEN x.h % 100 < 45 THEN 'activated' WHEN x.h % 100 < 55 THEN 'sent'
                               WHEN x.h % 100 < 60 THEN 'starting' ELSE 'running' END
    WHEN x.attempts = 3 AND x.h % 2 = 0 THEN 'failed'
    WHEN x.attempts = 1 AND x.h % 1000 < x.fail_permille THEN 'failed'
    ELSE 'finished' END AS final
FROM (SELECT t.task_id, t.workflow_id, t.label_ix, t.label, t.queue, t.memory_mb, t.pss_mb, t.duration_s,
             t.wf_state, t.n_parents, t.fail_permille, t.node_first + k AS input_id, k,
             k < t.with_jobs AS has_jobs,
             k >= t.with_jobs - t.active AND k < t.with_jobs AS is_active,
             CASE WHEN k >= t.with_jobs THEN 0
                  WHEN (k * t.mult) % t.with_jobs < t.n3 THEN 3
                  WHEN (k * t.mult) % t.with_jobs < t.n3 + t.n2 THEN 2 ELSE 1 END AS attempts,
             ((t.node_first + k) * 2654435761) % 4294967291 AS h,
             t.label || '_' || (903000 + k / 189) || '_' || (k % 189) AS name
        FROM public.bench_tasks t CROSS JOIN LATERAL generate_series(0::bigint, t.nodes - 1) AS k) x`;

/** The payload command of a node (`i`: a bench_inputs row; the workflow's name). */
const command = (i: string, wfName = 'w.name') =>
  `'pipetask --long-log run-qbb /repo/main /sdf/data/rubin/bps/submit/' || ${wfName} || '/' || ${i}.label
   || '.qgraph --qgraph-node-id ' || to_hex(${i}.h) || '-' || to_hex(${i}.input_id)`;

export const INSERT_NODES = `
INSERT INTO idds.nodes (node_id, workflow_id, task_ref, name, label, command, memory_mb, cores, state,
                        n_parents, n_parents_done, n_parents_dead, is_final)
SELECT i.input_id, i.workflow_id, i.task_id, i.name, i.label, ${command('i')}, i.memory_mb, 1,
       CASE i.final WHEN 'finished' THEN 'finished' WHEN 'unreleased' THEN 'unreleased' WHEN 'pruned' THEN 'pruned'
                    WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'failed' WHEN 'closed' THEN 'failed'
                    ELSE 'released' END,
       i.n_parents, CASE WHEN i.final IN ('unreleased', 'pruned') THEN 0 ELSE i.n_parents END, 0, false
  FROM public.bench_inputs i JOIN public.bench_wf w USING (workflow_id)`;

/** Each child node has one parent node per parent label, spread evenly over the parent task. */
export const INSERT_EDGES = `
INSERT INTO idds.edges (parent_id, child_id)
SELECT p.parent_first + (i.k * p.parent_nodes) / p.child_nodes, i.input_id
  FROM public.bench_inputs i JOIN public.bench_parents p USING (task_id)`;

/** Error pairs by kind (1..10 failures, weighted; 11 cancelled; 12 closed). */
export const CREATE_ERRORS = `
CREATE UNLOGGED TABLE public.bench_errors (kind int PRIMARY KEY, exit_code int, error_code int, diag text, errors jsonb);
INSERT INTO public.bench_errors VALUES
 (1, 1, 1305, 'RuntimeError: Failed to execute payload: lsst.pipe.base.NoWorkFound not raised; exit 1',
  '[{"source":"payload","code":1,"diag":""},{"source":"pilot","code":1305,"diag":"RuntimeError: Failed to execute payload: lsst.pipe.base.NoWorkFound not raised; exit 1"}]'),
 (2, 137, 1235, 'Payload exceeded maximum allowed memory (PSS above the limit of the queue)',
  '[{"source":"payload","code":137,"diag":""},{"source":"pilot","code":1235,"diag":"Payload exceeded maximum allowed memory (PSS above the limit of the queue)"}]'),
 (3, 0, 0, '', '[{"source":"sup","code":1212,"diag":"worker ended by the batch system: OUT_OF_MEMORY"}]'),
 (4, 0, 0, '', '[{"source":"dispatcher","code":100,"diag":"lost heartbeat"}]'),
 (5, 0, 1150, 'Looping job killed by pilot: no file changed for 7200 s',
  '[{"source":"pilot","code":1150,"diag":"Looping job killed by pilot: no file changed for 7200 s"}]'),
 (6, 0, 1213, 'Reached batch system time limit',
  '[{"source":"pilot","code":1213,"diag":"Reached batch system time limit"},{"source":"sup","code":1213,"diag":"TIMEOUT"}]'),
 (7, 2, 1305, 'FileNotFoundError: butler dataset not found',
  '[{"source":"payload","code":2,"diag":""},{"source":"pilot","code":1305,"diag":"FileNotFoundError: butler dataset not found"}]'),
 (8, 0, 1099, 'Stage-in failed: /sdf/data/rubin is not mounted',
  '[{"source":"pilot","code":1099,"diag":"Stage-in failed: /sdf/data/rubin is not mounted"}]'),
 (9, 0, 1137, 'Stage-out failed: butler registry timeout',
  '[{"source":"pilot","code":1137,"diag":"Stage-out failed: butler registry timeout"}]'),
 (10, 0, 1317, 'Exceeded max wait time (lost heartbeat)',
  '[{"source":"pilot","code":1317,"diag":"Exceeded max wait time (lost heartbeat)"}]'),
 (11, 0, 1144, 'Killed by the PanDA server',
  '[{"source":"pilot","code":1144,"diag":"Killed by the PanDA server"},{"source":"taskbuffer","code":100,"diag":"killed by user"}]'),
 (12, 0, 0, '', '[{"source":"taskbuffer","code":102,"diag":"expired"}]')`;

/** Failure kind from a per-job number in [0, 1000): the weights of bench_errors 1..10. */
const KIND = (eh: string) => `CASE WHEN ${eh} < 450 THEN 1 WHEN ${eh} < 600 THEN 2 WHEN ${eh} < 680 THEN 3
  WHEN ${eh} < 780 THEN 4 WHEN ${eh} < 860 THEN 5 WHEN ${eh} < 910 THEN 6 WHEN ${eh} < 950 THEN 7
  WHEN ${eh} < 980 THEN 8 WHEN ${eh} < 995 THEN 9 ELSE 10 END`;

/**
 * Every attempt of every input. Panda ids follow time: per workflow, first attempts label by
 * label, then the retries; jobs of one workflow are spread over its span. Each layer computes its
 * values once (OFFSET 0 keeps the planner from inlining them into every use).
 */
export const INSERT_JOBS = `
INSERT INTO server.jobs (panda_id, task_id, input_id, workflow_id, label, name, command, queue, state, attempt_nr,
  max_attempts, memory_mb, cores, priority, walltime_s, exit_code, error_code, error_diag, worker_id, node,
  created_at, state_changed_at, modified_at, start_time, end_time, errors, metrics)
SELECT y.pid, y.task_id, y.input_id, y.workflow_id, y.label, y.name, ${command('y', 'y.wf_name')}, y.queue, y.state,
       y.a, 3, y.mem, 1, 500, 86400, coalesce(e.exit_code, 0), coalesce(e.error_code, 0), coalesce(e.diag, ''),
       CASE WHEN y.state = 'activated' THEN ''
            ELSE lpad(to_hex((y.wn * 2654435761) % 4294967291), 8, '0') || '-5e1f-4c2a-9b3d-' || lpad(to_hex(y.wn), 12, '0') END,
       CASE WHEN y.state = 'activated' THEN ''
            ELSE 'sdfrome' || lpad((y.wn % 250)::text, 3, '0') || '.sdf.slac.stanford.edu' END,
       y.created, y.changed, y.changed, y.started, y.ended,
       CASE WHEN y.kind = 4 THEN jsonb_build_array(jsonb_build_object('source', 'dispatcher', 'code', 100,
              'diag', 'lost heartbeat : ' || to_char(y.changed, 'YYYY-MM-DD HH24:MI:SS')))
            ELSE coalesce(e.errors, '[]'::jsonb) END,
       CASE WHEN y.state = 'finished' OR y.kind IN (1, 2, 5, 6, 7) THEN m.metrics END
FROM (
  SELECT x.*,
         CASE WHEN x.state IN ('activated', 'sent') THEN NULL ELSE least(x.t0, x.begun) END AS started,
         CASE WHEN x.state IN ('activated', 'sent', 'starting', 'running') THEN NULL ELSE least(x.t0, x.done) END AS ended,
         CASE WHEN x.state = 'activated' THEN x.created WHEN x.state IN ('sent', 'starting', 'running') THEN least(x.t0, x.begun)
              ELSE least(x.t0, x.done) END AS changed,
         coalesce(x.kind = 2, false) AS oom
    FROM (
      SELECT v.*, v.created + make_interval(secs => 30 + 600 * v.r1) AS begun,
             v.created + make_interval(secs => 30 + 600 * v.r1 + v.dur_s) AS done,
             CASE WHEN v.state = 'failed' THEN ${KIND('v.eh')}
                  WHEN v.state = 'cancelled' THEN 11 WHEN v.state = 'closed' THEN 12 END AS kind,
             (v.memory_mb * (1 + (v.a - 1) / 2.0::float8))::int AS mem, (v.pid - 1) / 40 AS wn
        FROM (
          SELECT q.*, w.t0, w.name AS wf_name,
                 w.created + make_interval(secs => (q.pid - w.first_panda)::float8 / greatest(w.jobs, 1) * w.span_h * 3420)
                   AS created,
                 ((q.pid * 2246822519) % 1000003)::float8 / 1000003 AS r1,
                 (q.pid * 3266489917) % 999983 % 200 AS r2b,
                 round(q.duration_s * (0.5 + ((q.pid * 3266489917) % 999983 % 200 + 0.5) / 200))::int AS dur_s,
                 (q.pid * 1640531527) % 1000 AS eh
            FROM (SELECT i.*, a, CASE WHEN a < i.attempts THEN 'failed' ELSE i.final END AS state,
                         row_number() OVER (ORDER BY i.workflow_id, a, i.label_ix, i.k) AS pid
                    FROM public.bench_inputs i JOIN (VALUES (1), (2), (3)) AS t(a) ON t.a <= i.attempts) q
            JOIN public.bench_wf w USING (workflow_id) OFFSET 0) v OFFSET 0) x OFFSET 0
) y LEFT JOIN public.bench_errors e ON e.kind = y.kind
  LEFT JOIN public.bench_metrics m ON m.label_ix = y.label_ix AND m.oom = y.oom AND m.r2b = y.r2b`;

/**
 * The pilot's measurements, by label, out-of-memory or not, and 200 steps of size: built once
 * (jsonb_build_object per job would dominate the load). PSS and payload time match the job's.
 */
export const CREATE_METRICS = `
CREATE UNLOGGED TABLE public.bench_metrics AS
SELECT l.label_ix, o.oom, b AS r2b, jsonb_build_object(
         'maxPssKb', v.pss, 'avgPssKb', v.pss * 7 / 10, 'maxRssKb', v.pss * 115 / 100, 'avgRssKb', v.pss * 8 / 10,
         'maxVmemKb', v.pss * 2, 'avgVmemKb', v.pss * 16 / 10, 'maxSwapKb', 0, 'avgSwapKb', 0,
         'cpuTimeS', v.dur * 93 / 100, 'maxProcesses', 3, 'maxThreads', 14, 'payloadS', v.dur) AS metrics
  FROM (SELECT DISTINCT label_ix, memory_mb, pss_mb, duration_s FROM public.bench_tasks) l
 CROSS JOIN (VALUES (false), (true)) AS o(oom) CROSS JOIN generate_series(0, 199) AS b
 CROSS JOIN LATERAL (SELECT (CASE WHEN o.oom THEN l.memory_mb * 1.08 ELSE l.pss_mb * (0.6 + 0.8 * (b + 0.5) / 200) END
                             * 1024)::bigint AS pss,
                            round(l.duration_s * (0.5 + (b + 0.5) / 200))::int AS dur) v`;

export const INSERT_TASK_INPUTS = `
INSERT INTO jedi.task_inputs (input_id, task_id, node_id, name, command, memory_mb, cores, state, attempt_nr,
  panda_id, modified_at, base_memory_mb, walltime_s, failed_attempts, oom_failures, queue)
SELECT i.input_id, i.task_id, i.input_id, i.name, ${command('i')}, coalesce(j.memory_mb, i.memory_mb), 1,
       CASE i.final WHEN 'finished' THEN 'finished' WHEN 'unreleased' THEN 'defined' WHEN 'pruned' THEN 'missing'
                    WHEN 'failed' THEN 'failed' WHEN 'cancelled' THEN 'failed' WHEN 'closed' THEN 'failed'
                    ELSE 'picked' END,
       i.attempts, j.panda_id, coalesce(j.state_changed_at, w.created), i.memory_mb, 86400,
       greatest(i.attempts - 1, 0) + CASE WHEN i.final = 'failed' THEN 1 ELSE 0 END, 0, i.queue
  FROM public.bench_inputs i JOIN public.bench_wf w USING (workflow_id)
  LEFT JOIN server.jobs j ON j.input_id = i.input_id AND j.attempt_nr = i.attempts`;

/** Task counters and states from their inputs; workflow counters from their nodes. */
export const UPDATE_COUNTS = `
UPDATE jedi.tasks t SET inputs_total = c.total, inputs_finished = c.fin, inputs_failed = c.failed,
       inputs_missing = c.missing, modified_at = c.last,
       state = CASE WHEN c.busy > 0 THEN 'running' WHEN c.defined = c.total THEN 'ready'
                    WHEN c.defined > 0 THEN 'running' WHEN w.state = 'Cancelled' AND c.fin < c.total THEN 'aborted'
                    WHEN c.fin = c.total THEN 'done' WHEN c.fin > 0 THEN 'finished' ELSE 'failed' END
  FROM (SELECT task_id, count(*) AS total, count(*) FILTER (WHERE state = 'finished') AS fin,
               count(*) FILTER (WHERE state = 'failed') AS failed, count(*) FILTER (WHERE state = 'missing') AS missing,
               count(*) FILTER (WHERE state = 'picked') AS busy, count(*) FILTER (WHERE state = 'defined') AS defined,
               max(modified_at) AS last
          FROM jedi.task_inputs GROUP BY task_id) c, idds.workflows w
 WHERE t.task_id = c.task_id AND w.workflow_id = t.workflow_id;
UPDATE idds.workflows w SET total = c.total, released = c.released, finished = c.fin, failed = c.failed,
       pruned = c.pruned, updated_at = greatest(w.created_at, c.last)
  FROM (SELECT n.workflow_id, count(*) AS total, count(*) FILTER (WHERE n.state NOT IN ('unreleased', 'pruned')) AS released,
               count(*) FILTER (WHERE n.state = 'finished') AS fin, count(*) FILTER (WHERE n.state = 'failed') AS failed,
               count(*) FILTER (WHERE n.state = 'pruned') AS pruned, max(t.modified_at) AS last
          FROM idds.nodes n JOIN jedi.tasks t ON t.task_id = n.task_ref GROUP BY n.workflow_id) c
 WHERE w.workflow_id = c.workflow_id`;

/** One harvester worker per 40 consecutive jobs, plus a few waiting ones per queue. */
export const INSERT_WORKERS = `
INSERT INTO harvester.workers (worker_id, queue, state, submitter, batch_id, cores, memory_mb, submitted_at,
  started_at, ended_at, state_changed_at, exit_code, diag, native_status)
SELECT g.worker_id, g.queue, g.state, g.submitter,
       CASE g.submitter WHEN 'slurm' THEN (4100000 + g.first_pid / 40)::text
                        WHEN 'kubernetes' THEN 'panda-pilot-' || left(g.worker_id, 8)
                        ELSE (10000 + g.first_pid % 50000)::text END,
       1, g.mem, g.first_created - interval '2 minutes', g.started,
       CASE WHEN g.state = 'running' THEN NULL ELSE g.ended + interval '20 seconds' END,
       CASE WHEN g.state = 'running' THEN g.started ELSE g.ended + interval '20 seconds' END,
       CASE g.state WHEN 'running' THEN NULL WHEN 'finished' THEN 0 WHEN 'failed' THEN 1 ELSE NULL END,
       CASE g.state WHEN 'failed' THEN 'pilot exited with code 1' WHEN 'missed' THEN 'worker vanished from the batch system'
                    ELSE '' END,
       CASE g.state WHEN 'running' THEN 'RUNNING' WHEN 'finished' THEN 'COMPLETED' WHEN 'failed' THEN 'FAILED' ELSE 'UNKNOWN' END
  FROM (SELECT w.*, CASE WHEN w.busy THEN 'running' WHEN (w.first_pid * 2654435761) % 4294967291 % 100 < 3 THEN 'failed'
                         WHEN (w.first_pid * 2654435761) % 4294967291 % 100 < 5 THEN 'missed' ELSE 'finished' END AS state,
               CASE WHEN w.queue LIKE '%Slurm' THEN 'slurm' WHEN w.queue LIKE '%K8s' THEN 'kubernetes' ELSE 'local' END AS submitter
          FROM (SELECT worker_id, min(queue) AS queue, bool_or(state IN ('sent', 'starting', 'running')) AS busy,
                       max(memory_mb) AS mem, min(created_at) AS first_created, min(start_time) AS started,
                       coalesce(max(end_time), max(state_changed_at)) AS ended, min(panda_id) AS first_pid
                  FROM server.jobs WHERE worker_id <> '' GROUP BY worker_id) w) g;
INSERT INTO harvester.workers (worker_id, queue, state, submitter, cores, memory_mb, submitted_at, state_changed_at, native_status)
SELECT md5('bench-waiting-' || s)::uuid::text, q.queue, CASE WHEN s % 2 = 0 THEN 'submitted' ELSE 'idle' END,
       CASE WHEN q.queue LIKE '%Slurm' THEN 'slurm' WHEN q.queue LIKE '%K8s' THEN 'kubernetes' ELSE 'local' END,
       1, 4000, now() - s * interval '1 minute', now() - s * interval '1 minute', 'PENDING'
  FROM generate_series(1, 40) s
  JOIN (SELECT queue, row_number() OVER (ORDER BY queue) - 1 AS qi, count(*) OVER () AS nq
          FROM (SELECT DISTINCT queue FROM public.bench_tasks) d) q ON q.qi = s % q.nq`;
