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
   * Inserts jobs as `activated`. Idempotent on (input_id, attempt_nr): a repeat returns the
   * panda id given the first time and emits nothing.
   */
  async insertJobs(jobs: NewJob[]): Promise<{ inputId: number; attemptNr: number; pandaId: number }[]> {
    if (jobs.length === 0) return [];
    return this.outbox.tx(async (sql) => {
      const col = <K extends keyof NewJob>(k: K) => jobs.map((j) => j[k]);
      const inserted = await sql.query<JobRow>(
        `INSERT INTO server.jobs (task_id, input_id, workflow_id, label, name, command, queue, attempt_nr,
           max_attempts, memory_mb, cores, priority, walltime_s, state)
         SELECT *, 'activated' FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
           $6::text[], $7::text[], $8::int[], $9::int[], $10::int[], $11::int[], $12::int[], $13::int[])
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
   * Claims up to n activated jobs of a queue that fit the pilot's memory, cores and
   * walltime, best priority first, and marks them `sent`. SKIP LOCKED: concurrent pilots
   * never see the same row, so no job is handed out twice.
   */
  async acquire(req: AcquireJobsRequest): Promise<Job[]> {
    const n = Math.max(1, Math.min(req.nJobs || 1, 1000));
    return this.outbox.tx(async (sql) => {
      const rows = await sql.query<JobRow>(
        `WITH picked AS (
           SELECT panda_id FROM server.jobs
           WHERE queue = $1 AND state = 'activated'
             AND ($3::int = 0 OR memory_mb <= $3) AND ($4::int = 0 OR cores <= $4)
             AND ($5::int = 0 OR walltime_s <= $5)
           ORDER BY priority DESC, panda_id
           LIMIT $2
           FOR UPDATE SKIP LOCKED)
         UPDATE server.jobs j SET state = 'sent', worker_id = $6, node = $7,
           state_changed_at = now(), modified_at = now()
         FROM picked WHERE j.panda_id = picked.panda_id
         RETURNING j.*`,
        [req.queue, n, req.memoryMb, req.cores, req.remainingWalltimeS, req.workerId, req.node],
      );
      rows.sort((a, b) => b.priority - a.priority || Number(a.panda_id) - Number(b.panda_id));
      await this.outbox.write(sql, jobEvents(rows.map((r) => jobChange(r, 'activated'))));
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
          const [moved] = await this.move(sql, u, to);
          if (!moved) throw new Error(`job ${u.pandaId} vanished during update`);
          byId.set(u.pandaId, moved);
          changes.push(jobChange(moved, row!.state));
          results.push({ ...base, state: moved.state, result: 'ok', message: '' });
        }
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

  private move(sql: Sql, u: JobUpdate, to: JobState): Promise<JobRow[]> {
    const final = jobStates.isFinal(to);
    const errors = final ? errorPairs(u) : [];
    return sql.query<JobRow>(
      `UPDATE server.jobs SET state = $2, state_changed_at = now(), modified_at = now(),
         start_time = CASE WHEN $2 = 'running' AND start_time IS NULL THEN now() ELSE start_time END,
         end_time = CASE WHEN $3 THEN now() ELSE end_time END,
         exit_code = CASE WHEN $3 THEN $4 ELSE exit_code END,
         error_code = CASE WHEN $3 THEN $5 ELSE error_code END,
         error_diag = CASE WHEN $3 THEN $6 ELSE error_diag END,
         node = CASE WHEN $7 <> '' THEN $7 ELSE node END,
         errors = CASE WHEN $3 THEN errors || $8::jsonb ELSE errors END,
         metrics = COALESCE($9::jsonb, metrics)
       WHERE panda_id = $1 RETURNING *`,
      [
        u.pandaId,
        to,
        final,
        u.exitCode,
        u.errorCode,
        u.errorDiag.slice(0, MAX_DIAG),
        u.node,
        JSON.stringify(errors),
        u.metrics ? JSON.stringify(u.metrics) : null,
      ],
    );
  }
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
