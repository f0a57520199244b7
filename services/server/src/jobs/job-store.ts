import type { Outbox, Sql } from '@panda/platform';
import type {
  AcquireJobsRequest,
  Job,
  JobChange,
  JobError,
  JobUpdate,
  JobUpdateResult,
  NewJob,
} from '@panda/proto';
import { jobChange, jobEvents } from './job-events.js';
import type { JobRow } from './job-row.js';
import { toJob } from './job-row.js';
import { decideUpdate, jobStates } from './job-state.js';
import type { JobState } from './job-state.js';

/** The server's job table: every write goes with its outbox events in one transaction. */
export class JobStore {
  constructor(private readonly outbox: Outbox) {}

  /**
   * Inserts jobs as `activated`, or `defined` when staged behind a gate (see `activate`).
   * Idempotent on (input_id, attempt_nr): a repeat returns the panda id given the first time
   * and emits nothing.
   */
  async insertJobs(jobs: NewJob[]): Promise<{ inputId: number; attemptNr: number; pandaId: number }[]> {
    if (jobs.length === 0) return [];
    return this.outbox.tx(async (sql) => {
      const col = <K extends keyof NewJob>(k: K) => jobs.map((j) => j[k]);
      const inserted = await sql.query<JobRow>(
        `INSERT INTO server.jobs (task_id, input_id, workflow_id, label, name, command, queue, attempt_nr,
           max_attempts, memory_mb, cores, priority, walltime_s, gate_node_id, state, activated_at)
         SELECT *, CASE WHEN g = 0 THEN 'activated' ELSE 'defined' END, CASE WHEN g = 0 THEN now() END
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
           $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::int[], $14::bigint[])
           AS u(t, i, w, l, n, c, q, a, ma, m, k, p, wt, g)
         ON CONFLICT (input_id, attempt_nr) DO NOTHING
         RETURNING *`,
        [
          col('taskId'),
          col('inputId'),
          col('workflowId'),
          col('label'),
          col('name'),
          col('command'),
          col('queue'),
          col('attemptNr'),
          col('maxAttempts'),
          col('memoryMb'),
          col('cores'),
          col('priority'),
          col('walltimeS'),
          col('gateNodeId'),
        ],
      );
      await this.outbox.write(sql, jobEvents(inserted.map((r) => jobChange(r, ''))));
      const all = await sql.query<{ input_id: string; attempt_nr: number; panda_id: string }>(
        `SELECT input_id, attempt_nr, panda_id FROM server.jobs
         WHERE (input_id, attempt_nr) IN (SELECT * FROM unnest($1::bigint[], $2::int[]))`,
        [col('inputId'), col('attemptNr')],
      );
      return all.map((r) => ({
        inputId: Number(r.input_id),
        attemptNr: r.attempt_nr,
        pandaId: Number(r.panda_id),
      }));
    });
  }

  /**
   * Claims up to n dispatchable jobs of a queue that fit the pilot's memory, cores and
   * walltime, best priority first, and marks them `sent`: `activated` ones, and `defined`
   * ones behind an open gate (activated in this transaction, as of the gate's opening).
   * SKIP LOCKED: concurrent pilots never see the same row, so no job is handed out twice.
   */
  async acquire(req: AcquireJobsRequest): Promise<Job[]> {
    const n = Math.max(1, Math.min(req.nJobs || 1, 1000));
    const fits = `($3::int = 0 OR j.memory_mb <= $3) AND ($4::int = 0 OR j.cores <= $4)
      AND ($5::int = 0 OR j.walltime_s <= $5)`;
    return this.outbox.tx(async (sql) => {
      const rows = await sql.query<JobRow & { gated: boolean }>(
        `WITH ready AS (
           SELECT j.panda_id, j.priority, NULL::timestamptz AS opened_at FROM server.jobs j
           WHERE j.queue = $1 AND j.state = 'activated' AND ${fits}
           ORDER BY j.priority DESC, j.panda_id
           LIMIT $2
           FOR UPDATE SKIP LOCKED),
         gated AS (
           SELECT j.panda_id, j.priority, g.opened_at FROM server.open_gates g
           CROSS JOIN LATERAL (
             SELECT j.panda_id, j.priority FROM server.jobs j
             WHERE j.task_id = g.task_id AND j.gate_node_id = g.gate_node_id AND j.state = 'defined'
               AND j.queue = $1 AND ${fits}
             ORDER BY j.panda_id
             LIMIT $2
             FOR UPDATE SKIP LOCKED) j
           LIMIT $2),
         picked AS (
           SELECT * FROM ready UNION ALL SELECT * FROM gated ORDER BY priority DESC, panda_id LIMIT $2)
         UPDATE server.jobs j SET state = 'sent', worker_id = $6, node = $7,
           activated_at = COALESCE(picked.opened_at, j.activated_at), state_changed_at = now(), modified_at = now()
         FROM picked WHERE j.panda_id = picked.panda_id
         RETURNING j.*, picked.opened_at IS NOT NULL AS gated`,
        [req.queue, n, req.memoryMb, req.cores, req.remainingWalltimeS, req.workerId, req.node],
      );
      rows.sort((a, b) => b.priority - a.priority || Number(a.panda_id) - Number(b.panda_id));
      const activated = rows
        .filter((r) => r.gated)
        .map((r) => jobChange({ ...r, state: 'activated' }, 'defined'));
      const sent = rows.map((r) => jobChange(r, 'activated'));
      await this.outbox.write(sql, [...jobEvents(activated), ...jobEvents(sent)]);
      return rows.map(toJob);
    });
  }

  /** Applies a batch of pilot updates; each gets its own verdict, refused ones change nothing. */
  async update(updates: JobUpdate[]): Promise<JobUpdateResult[]> {
    if (updates.length === 0) return [];
    return this.outbox.tx(async (sql) => {
      const ids = [...new Set(updates.map((u) => u.pandaId))];
      const current = await sql.query<JobRow>(
        `SELECT * FROM server.jobs WHERE panda_id = ANY($1::bigint[]) ORDER BY panda_id FOR UPDATE`,
        [ids],
      );
      const byId = new Map(current.map((r) => [Number(r.panda_id), r]));
      const results: JobUpdateResult[] = [];
      const changes: JobChange[] = [];
      const heartbeats: number[] = [];
      // Moves are applied in rounds: a job's first move in round 0, its second (e.g. running
      // then failed in one call) in round 1; each round is one statement for all its jobs.
      const rounds: Move[][] = [];
      const movesOf = new Map<number, number>();
      for (const u of updates) {
        const row = byId.get(u.pandaId);
        const decision = decideUpdate(row && { state: row.state as JobState, attemptNr: row.attempt_nr }, {
          state: u.state,
          attemptNr: u.attemptNr,
        });
        const base = {
          pandaId: u.pandaId,
          state: row?.state ?? '',
          commandToPilot: row?.command_to_pilot ?? '',
        };
        if (decision.kind === 'refuse') {
          results.push({ ...base, result: decision.result, message: decision.message });
        } else if (decision.kind === 'heartbeat' || decision.kind === 'ignore') {
          heartbeats.push(u.pandaId);
          results.push({
            ...base,
            result: 'ok',
            message: decision.kind === 'ignore' ? decision.message : '',
          });
        } else {
          // A job told to die ends as its kill decided, whatever the pilot reports.
          const to = row!.kill_state && jobStates.isFinal(decision.to) ? row!.kill_state : decision.to;
          const n = movesOf.get(u.pandaId) ?? 0;
          (rounds[n] ??= []).push({ u, to, from: row!.state });
          movesOf.set(u.pandaId, n + 1);
          byId.set(u.pandaId, { ...row!, state: to });
          results.push({ ...base, state: to, result: 'ok', message: '' });
        }
      }
      for (const round of rounds) {
        const from = new Map(round.map((m) => [m.u.pandaId, m.from]));
        const moved = await this.moveMany(sql, round);
        changes.push(...moved.map((r) => jobChange(r, from.get(Number(r.panda_id))!)));
      }
      if (heartbeats.length) {
        await sql.query(`UPDATE server.jobs SET modified_at = now() WHERE panda_id = ANY($1::bigint[])`, [
          heartbeats,
        ]);
      }
      await this.outbox.write(sql, jobEvents(changes));
      return results;
    });
  }

  private moveMany(sql: Sql, moves: Move[]): Promise<JobRow[]> {
    const final = moves.map((m) => jobStates.isFinal(m.to));
    return sql.query<JobRow>(
      `UPDATE server.jobs j SET state = u.next_state, state_changed_at = now(), modified_at = now(),
         start_time = CASE WHEN u.next_state = 'running' AND j.start_time IS NULL THEN now() ELSE j.start_time END,
         end_time = CASE WHEN u.final THEN now() ELSE j.end_time END,
         exit_code = CASE WHEN u.final THEN u.exit_code ELSE j.exit_code END,
         error_code = CASE WHEN u.final THEN u.error_code ELSE j.error_code END,
         error_diag = CASE WHEN u.final THEN u.diag ELSE j.error_diag END,
         node = CASE WHEN u.node <> '' THEN u.node ELSE j.node END,
         errors = CASE WHEN u.final THEN j.errors || u.errors ELSE j.errors END,
         metrics = COALESCE(u.metrics, j.metrics)
       FROM unnest($1::bigint[], $2::text[], $3::bool[], $4::int[], $5::int[], $6::text[], $7::text[],
         $8::jsonb[], $9::jsonb[]) AS u(id, next_state, final, exit_code, error_code, diag, node, errors, metrics)
       WHERE j.panda_id = u.id RETURNING j.*`,
      [
        moves.map((m) => m.u.pandaId),
        moves.map((m) => m.to),
        final,
        moves.map((m) => m.u.exitCode),
        moves.map((m) => m.u.errorCode),
        moves.map((m) => m.u.errorDiag.slice(0, MAX_DIAG)),
        moves.map((m) => m.u.node),
        moves.map((m, i) => JSON.stringify(final[i] ? errorPairs(m.u) : [])),
        moves.map((m) => (m.u.metrics ? JSON.stringify(m.u.metrics) : null)),
      ],
    );
  }
}

interface Move {
  u: JobUpdate;
  to: JobState;
  from: string;
}

const MAX_DIAG = 4000;

/** The error pairs a final pilot report carries: payload exit code, pilot error, and any others. */
export function errorPairs(u: JobUpdate): JobError[] {
  const pairs: JobError[] = [];
  if (u.exitCode !== 0) pairs.push({ source: 'payload', code: u.exitCode, diag: '' });
  if (u.errorCode !== 0)
    pairs.push({ source: 'pilot', code: u.errorCode, diag: u.errorDiag.slice(0, MAX_DIAG) });
  for (const e of u.errors) {
    if (e.code !== 0) pairs.push({ source: e.source, code: e.code, diag: e.diag.slice(0, MAX_DIAG) });
  }
  return pairs;
}
