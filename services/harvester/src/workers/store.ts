import { IllegalTransitionError } from '@panda/platform';
import type { Database, Logger, Outbox, Sql } from '@panda/platform';
import { workerChangedEvent } from './events.js';
import { ACTIVE_WORKER_STATES, workerTransitions } from './states.js';
import type { WorkerState } from './states.js';

export interface WorkerRow {
  workerId: string;
  queue: string;
  state: WorkerState;
  submitter: string;
  batchId: string;
  cores: number;
  memoryMb: number;
  /** The walltime the worker was submitted with (s); 0 = no limit (local) or none asked for. */
  walltimeS: number;
  /**
   * Where the worker's own log is: `file://<absolute path>` (local: the pilot's output; Slurm:
   * the sbatch --output file) or a Kubernetes API path (the pod's log once the pod was seen,
   * before that the pod list by the worker's label); '' when unknown.
   */
  logUrl: string;
  submittedAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
  exitCode: number | null;
  /** Supervisor error code (1212 = worker out of memory); null when none. */
  errorCode: number | null;
  diag: string;
  nativeStatus: string;
}

export interface NewWorker {
  workerId: string;
  queue: string;
  submitter: string;
  cores: number;
  memoryMb: number;
  /** What harvester asks for (the queue's maxtime); the submission's result replaces it. */
  walltimeS?: number;
  logUrl?: string;
}

/** What a state change may also set. */
export interface WorkerPatch {
  batchId?: string;
  walltimeS?: number;
  logUrl?: string;
  exitCode?: number;
  errorCode?: number;
  diag?: string;
  nativeStatus?: string;
}

export interface WorkerFilter {
  queue?: string;
  state?: WorkerState;
  limit: number;
}

/** Active workers of one queue: `queued` = submitted, `running` = running or idle. */
export interface QueueWorkerCounts {
  queued: number;
  running: number;
}

const COLUMNS = `worker_id AS "workerId", queue, state, submitter, batch_id AS "batchId", cores,
  memory_mb AS "memoryMb", walltime_s AS "walltimeS", log_url AS "logUrl", submitted_at AS "submittedAt", started_at AS "startedAt", ended_at AS "endedAt",
  exit_code AS "exitCode", error_code AS "errorCode", diag, native_status AS "nativeStatus"`;

/**
 * The workers table. Every state change is one transaction that also writes its
 * `panda.worker.<state>` event to the outbox.
 */
export class WorkerStore {
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  private get table(): string {
    return `"${this.db.schema}".workers`;
  }

  /** Records a new worker in `submitted`. */
  async create(worker: NewWorker): Promise<void> {
    await this.outbox.tx(async (sql) => {
      await sql.query(
        `INSERT INTO ${this.table} (worker_id, queue, state, submitter, cores, memory_mb, walltime_s, log_url)
         VALUES ($1, $2, 'submitted', $3, $4, $5, $6, $7)`,
        [
          worker.workerId,
          worker.queue,
          worker.submitter,
          worker.cores,
          worker.memoryMb,
          worker.walltimeS ?? 0,
          worker.logUrl ?? '',
        ],
      );
      await this.outbox.write(sql, [
        workerChangedEvent({
          workerId: worker.workerId,
          queue: worker.queue,
          previousState: '',
          state: 'submitted',
          exitCode: null,
          diag: '',
        }),
      ]);
    });
  }

  /**
   * Moves a worker to `to` along the transition table and applies `patch`. Moving to the
   * state it is in only applies the patch (no event). A stale update for a worker already in
   * a final state is ignored (returns undefined); any other illegal move throws.
   */
  async move(workerId: string, to: WorkerState, patch: WorkerPatch = {}): Promise<WorkerRow | undefined> {
    return this.outbox.tx(async (sql) => {
      const [current] = await sql.query<WorkerRow>(
        `SELECT ${COLUMNS} FROM ${this.table} WHERE worker_id = $1 FOR UPDATE`,
        [workerId],
      );
      if (!current) throw new Error(`worker ${workerId} does not exist`);
      const changes = current.state !== to;
      if (changes && !workerTransitions.canMove(current.state, to)) {
        if (workerTransitions.isFinal(current.state)) {
          this.logger.debug({ workerId, from: current.state, to }, 'stale worker update ignored');
          return undefined;
        }
        throw new IllegalTransitionError(workerTransitions.machine, current.state, to);
      }
      const [row] = await this.update(sql, workerId, to, patch);
      if (changes && row) {
        await this.outbox.write(sql, [
          workerChangedEvent({
            workerId,
            queue: row.queue,
            previousState: current.state,
            state: to,
            exitCode: row.exitCode,
            errorCode: row.errorCode,
            diag: row.diag,
          }),
        ]);
      }
      return row;
    });
  }

  private update(sql: Sql, workerId: string, to: WorkerState, patch: WorkerPatch): Promise<WorkerRow[]> {
    const final = workerTransitions.isFinal(to);
    return sql.query<WorkerRow>(
      `UPDATE ${this.table} SET
         state = $2,
         state_changed_at = CASE WHEN state = $2 THEN state_changed_at ELSE now() END,
         started_at = CASE WHEN $2 IN ('running', 'idle') THEN coalesce(started_at, now()) ELSE started_at END,
         ended_at = CASE WHEN $3 THEN coalesce(ended_at, now()) ELSE ended_at END,
         batch_id = coalesce($4, batch_id),
         exit_code = coalesce($5, exit_code),
         diag = coalesce($6, diag),
         native_status = coalesce($7, native_status),
         error_code = coalesce($8, error_code),
         walltime_s = coalesce($9, walltime_s),
         log_url = coalesce($10, log_url)
       WHERE worker_id = $1
       RETURNING ${COLUMNS}`,
      [
        workerId,
        to,
        final,
        patch.batchId ?? null,
        patch.exitCode ?? null,
        patch.diag ?? null,
        patch.nativeStatus ?? null,
        patch.errorCode ?? null,
        patch.walltimeS ?? null,
        patch.logUrl ?? null,
      ],
    );
  }

  /** Workers not in a final state, of one submitter or all. */
  async active(submitter?: string): Promise<WorkerRow[]> {
    return this.db.query<WorkerRow>(
      `SELECT ${COLUMNS} FROM ${this.table}
       WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR submitter = $2)
       ORDER BY submitted_at`,
      [ACTIVE_WORKER_STATES, submitter ?? null],
    );
  }

  /** Active workers per queue. */
  async activeCounts(): Promise<Map<string, QueueWorkerCounts>> {
    const rows = await this.db.query<{ queue: string; queued: number; running: number }>(
      `SELECT queue,
              count(*) FILTER (WHERE state = 'submitted')::int AS queued,
              count(*) FILTER (WHERE state IN ('running', 'idle'))::int AS running
       FROM ${this.table} WHERE state = ANY($1::text[]) GROUP BY queue`,
      [ACTIVE_WORKER_STATES],
    );
    return new Map(rows.map((r) => [r.queue, { queued: r.queued, running: r.running }]));
  }

  /** How many workers each queue has in each state (every state, final ones included). */
  async countsByQueueAndState(): Promise<{ queue: string; state: WorkerState; count: number }[]> {
    return this.db.query<{ queue: string; state: WorkerState; count: number }>(
      `SELECT queue, state, count(*)::int AS count FROM ${this.table} GROUP BY queue, state ORDER BY queue, state`,
    );
  }

  async list(filter: WorkerFilter): Promise<WorkerRow[]> {
    return this.db.query<WorkerRow>(
      `SELECT ${COLUMNS} FROM ${this.table}
       WHERE ($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR state = $2)
       ORDER BY submitted_at DESC, worker_id LIMIT $3`,
      [filter.queue ?? null, filter.state ?? null, filter.limit],
    );
  }
}
