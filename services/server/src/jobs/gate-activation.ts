import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger, Outbox, Sql } from '@panda/platform';
import { GateOpened } from '@panda/proto';
import { jobChange, jobEvents } from './job-events.js';
import type { JobRow } from './job-row.js';

/**
 * Behind an open gate, chunks run one after the other and lock few rows at a time: pilots
 * (SKIP LOCKED) take the others directly meanwhile.
 */
const OPEN_CHUNK = 1000;
/** A paused task's jobs are only throttled: larger chunks, side by side. */
const HELD_CHUNK = 5000;
const HELD_PARALLEL = 5;
/** Published when a gate's row commits: from then on its staged jobs can be dispatched. */
export const GATE_ACTIVATED_SUBJECT = 'panda.gate.activated';

const RETURNED = `panda_id, task_id, input_id, workflow_id, state, attempt_nr, exit_code, error_code,
  error_diag, queue, errors, memory_mb, walltime_s`;

/**
 * A gate opened (the DAG node its staged jobs wait behind finished). One row in
 * `server.open_gates` makes every job still `defined` behind it dispatchable at once:
 * `acquire` hands them out from that commit on, in id order (defined -> activated -> sent in
 * its own transaction). Behind it, from the other end, a drain moves the rest to `activated`
 * 1000 per transaction, all with the gate's `opened_at` as `activated_at`; the row goes once
 * none is left `defined`. A paused task's jobs go `throttled` instead (a resume activates
 * them), and a pause closes the task's open gates (see JobCommands.throttle). Repeats change
 * nothing. A gate left open by a server that stopped mid-drain is drained by `run`.
 */
export class GateActivator {
  private readonly draining = new Map<string, Promise<void>>();
  /** Set by `run`: once aborted, drains stop between chunks (the gate stays open for the next start). */
  private signal: AbortSignal | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  /**
   * Opens the gate and returns how many jobs it made dispatchable (0 for a repeat); its drain
   * goes on behind. Held: throttles them all before returning, and returns how many.
   */
  async open(taskId: number, gateNodeId: number, held: boolean): Promise<number> {
    if (held)
      return inChunks(HELD_CHUNK, HELD_PARALLEL, (size) =>
        moveChunk(this.outbox, taskId, gateNodeId, size, { state: 'throttled' }),
      );
    const gate = await this.outbox.tx((sql) => openGate(sql, this.outbox, taskId, gateNodeId));
    if (gate) void this.drain(taskId, gateNodeId, gate.openedAt);
    return gate?.opened ?? 0;
  }

  /** `open`, then waits until the gate's drain is over. */
  async activate(taskId: number, gateNodeId: number, held: boolean): Promise<number> {
    const n = await this.open(taskId, gateNodeId, held);
    await this.draining.get(`${taskId}:${gateNodeId}`);
    return n;
  }

  /** Drains gates left open (by a server that stopped mid-way, or rows a pilot's failed call left) every `everyMs`. */
  async run(everyMs: number, signal: AbortSignal): Promise<void> {
    this.signal = signal;
    while (!signal.aborted) {
      try {
        const open = await this.outbox.tx((sql) =>
          sql.query<{ task_id: string; gate_node_id: string; opened_at: Date }>(
            `SELECT task_id, gate_node_id, opened_at FROM server.open_gates ORDER BY opened_at`,
          ),
        );
        await Promise.all(
          open.map((g) => this.drain(Number(g.task_id), Number(g.gate_node_id), g.opened_at)),
        );
      } catch (err) {
        this.logger.error({ err }, 'draining open gates failed; will retry');
      }
      await sleep(everyMs, undefined, { signal }).catch(() => undefined);
    }
    await Promise.all(this.draining.values());
  }

  /** One drain per gate in this process; errors are logged, and `run` tries again. */
  private drain(taskId: number, gateNodeId: number, openedAt: Date): Promise<void> {
    const key = `${taskId}:${gateNodeId}`;
    const running = this.draining.get(key);
    if (running) return running;
    const done = (async () => {
      const moved = await inChunks(OPEN_CHUNK, 1, (size) =>
        this.signal?.aborted
          ? Promise.resolve(0)
          : moveChunk(this.outbox, taskId, gateNodeId, size, { state: 'activated', openedAt }),
      );
      await this.outbox.tx((sql) =>
        sql.query(
          `DELETE FROM server.open_gates WHERE task_id = $1 AND gate_node_id = $2
             AND NOT EXISTS (SELECT 1 FROM server.jobs WHERE task_id = $1 AND gate_node_id = $2 AND state = 'defined')`,
          [taskId, gateNodeId],
        ),
      );
      const ms = Date.now() - openedAt.getTime();
      this.logger.info({ taskId, gate: gateNodeId, activated: moved, ms }, 'gate drained');
    })()
      .catch((err: unknown) => this.logger.error({ err, taskId, gate: gateNodeId }, 'gate drain failed'))
      .finally(() => this.draining.delete(key));
    this.draining.set(key, done);
    return done;
  }
}

/**
 * Opens the gate: its row, and a `panda.gate.activated` event, when jobs wait behind it.
 * Returns its opening time and how many jobs this call made dispatchable (0 if it was open).
 */
async function openGate(
  sql: Sql,
  outbox: Outbox,
  taskId: number,
  gateNodeId: number,
): Promise<{ openedAt: Date; opened: number } | undefined> {
  const [inserted] = await sql.query<{ opened_at: Date; workflow_id: string }>(
    `INSERT INTO server.open_gates (task_id, gate_node_id, workflow_id)
       SELECT $1, $2, workflow_id FROM server.jobs
       WHERE task_id = $1 AND gate_node_id = $2 AND state = 'defined' LIMIT 1
     ON CONFLICT (task_id, gate_node_id) DO NOTHING
     RETURNING opened_at, workflow_id`,
    [taskId, gateNodeId],
  );
  if (inserted) {
    const event = GateOpened.encode({
      workflowId: Number(inserted.workflow_id),
      gateNodeId,
      taskIds: [taskId],
    });
    await outbox.write(sql, [{ subject: GATE_ACTIVATED_SUBJECT, payload: event.finish() }]);
    const [waiting] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM server.jobs WHERE task_id = $1 AND gate_node_id = $2 AND state = 'defined'`,
      [taskId, gateNodeId],
    );
    return { openedAt: inserted.opened_at, opened: waiting?.n ?? 0 };
  }
  const [open] = await sql.query<{ opened_at: Date }>(
    `SELECT opened_at FROM server.open_gates WHERE task_id = $1 AND gate_node_id = $2`,
    [taskId, gateNodeId],
  );
  return open && { openedAt: open.opened_at, opened: 0 };
}

/** `parallel` chunk transactions side by side (SKIP LOCKED gives each its own rows), each until it finds less than a chunk. */
async function inChunks(
  size: number,
  parallel: number,
  chunk: (size: number) => Promise<number>,
): Promise<number> {
  const worker = async (): Promise<number> => {
    let n = 0;
    for (;;) {
      const got = await chunk(size);
      n += got;
      if (got < size) return n;
    }
  };
  const counts = await Promise.all(Array.from({ length: parallel }, worker));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * One chunk of a gate's `defined` jobs to `activated` (from the highest id down, away from the
 * pilots, and only while the gate is open: a pause that closed it meanwhile throttles the
 * rest) or to `throttled`. Returns how many moved.
 */
function moveChunk(
  outbox: Outbox,
  taskId: number,
  gateNodeId: number,
  size: number,
  to: { state: 'activated'; openedAt: Date } | { state: 'throttled' },
): Promise<number> {
  const activating = to.state === 'activated';
  return outbox.tx(async (sql) => {
    const rows = await sql.query<JobRow>(
      `UPDATE server.jobs SET state = $4, activated_at = coalesce($5, now()), state_changed_at = now(),
         modified_at = now()
       WHERE panda_id IN (SELECT panda_id FROM server.jobs
                          WHERE task_id = $1 AND gate_node_id = $2 AND state = 'defined'
                            AND (NOT $6 OR EXISTS (SELECT 1 FROM server.open_gates
                                                   WHERE task_id = $1 AND gate_node_id = $2))
                          ORDER BY panda_id DESC LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING ${RETURNED}`,
      [taskId, gateNodeId, size, to.state, activating ? to.openedAt : null, activating],
    );
    await outbox.write(sql, jobEvents(rows.map((r) => jobChange(r, 'defined'))));
    return rows.length;
  });
}

/**
 * A pause closes the task's open gates in its transaction: jobs still `defined` behind them
 * go `throttled` with the rest of the task's queued jobs (run it before throttling `activated`
 * ones, so a chunk committing meanwhile is caught by that statement).
 */
export async function closeGatesOfTask(sql: Sql, outbox: Outbox, taskId: number): Promise<number> {
  const gates = await sql.query<{ gate_node_id: string }>(
    `DELETE FROM server.open_gates WHERE task_id = $1 RETURNING gate_node_id`,
    [taskId],
  );
  if (gates.length === 0) return 0;
  const rows = await sql.query<JobRow>(
    `UPDATE server.jobs SET state = 'throttled', activated_at = now(), state_changed_at = now(), modified_at = now()
     WHERE task_id = $1 AND gate_node_id = ANY($2::bigint[]) AND state = 'defined'
     RETURNING ${RETURNED}`,
    [taskId, gates.map((g) => g.gate_node_id)],
  );
  await outbox.write(sql, jobEvents(rows.map((r) => jobChange(r, 'defined'))));
  return rows.length;
}
