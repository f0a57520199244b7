import type { Logger, Outbox, Sql } from '@panda/platform';
import type { JobServiceClient, NewJob } from '@panda/proto';
import { broker } from '../brokerage/broker.js';
import type { QueueCache } from '../brokerage/queue-cache.js';
import type { TaskRow } from '../tasks/task-store.js';
import { moveTask } from '../tasks/task-store.js';
import type { InputRow } from './input-row.js';
import { jobFor, walltimeOf } from './input-row.js';

const CHUNK = 5000;

export interface Attempt {
  input: InputRow;
  attemptNr: number;
}

/**
 * Turns inputs into jobs: brokers each distinct need (memory, cores, walltime) to a queue,
 * inserts the jobs into the server (idempotent there on input + attempt) and records each
 * input's job in the caller's transaction. Inputs no queue fits stay `ready` and the task
 * goes `pending` with the reason; the pending loop tries again later.
 */
export class JobGenerator {
  constructor(
    private readonly server: JobServiceClient,
    private readonly queues: QueueCache,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {}

  async generate(sql: Sql, task: TaskRow, attempts: Attempt[]): Promise<TaskRow> {
    if (attempts.length === 0) return task;
    const { jobs, stuck, reasons } = await this.brokerAll(
      task,
      attempts.map((a) => ({ ...a, gateNodeId: 0 })),
    );
    await this.submit(sql, jobs);
    if (stuck.length) {
      await sql.query(
        `UPDATE jedi.task_inputs SET state = 'ready', attempt_nr = u.a - 1, modified_at = now()
         FROM unnest($1::bigint[], $2::int[]) AS u(i, a) WHERE input_id = u.i`,
        [stuck.map((a) => a.input.input_id), stuck.map((a) => a.attemptNr)],
      );
    }
    let t = task;
    if (stuck.length) {
      const reason = [...reasons].join(' | ').slice(0, 2000);
      this.logger.info({ taskId: task.task_id, inputs: stuck.length, reason }, 'brokerage found no queue');
      await sql.query(`UPDATE jedi.tasks SET pending_reason = $2 WHERE task_id = $1`, [task.task_id, reason]);
      t = { ...t, pending_reason: reason };
      if (t.state === 'ready' || t.state === 'running') t = await moveTask(sql, this.outbox, t, 'pending');
    } else if (jobs.length && (t.state === 'ready' || t.state === 'pending')) {
      await sql.query(`UPDATE jedi.tasks SET pending_reason = '' WHERE task_id = $1`, [task.task_id]);
      t = await moveTask(sql, this.outbox, { ...t, pending_reason: '' }, 'running');
    }
    return t;
  }

  /**
   * Makes at once the jobs of inputs staged behind a gate (their one parent, not finished
   * yet): `defined` in server until jedi hears the gate opened. Returns the node ids of the
   * inputs no queue fits now; they stay `defined` here and wait for an ordinary release.
   */
  async stage(sql: Sql, task: TaskRow, staged: { input: InputRow; gateNodeId: number }[]): Promise<number[]> {
    if (staged.length === 0) return [];
    const { jobs, stuck } = await this.brokerAll(
      task,
      staged.map((s) => ({ input: s.input, attemptNr: s.input.attempt_nr + 1, gateNodeId: s.gateNodeId })),
    );
    await this.submit(sql, jobs);
    if (jobs.length && task.state === 'ready') await moveTask(sql, this.outbox, task, 'running');
    return stuck.map((a) => Number(a.input.node_id));
  }

  /** Brokers each distinct need (memory, cores, walltime) once. */
  private async brokerAll(
    task: TaskRow,
    attempts: (Attempt & { gateNodeId: number })[],
  ): Promise<{ jobs: NewJob[]; stuck: Attempt[]; reasons: Set<string> }> {
    const queues = await this.queues.get();
    const jobs: NewJob[] = [];
    const stuck: Attempt[] = [];
    const reasons = new Set<string>();
    const decided = new Map<string, ReturnType<typeof broker>>();
    for (const a of attempts) {
      const need = {
        memoryMb: a.input.memory_mb,
        cores: a.input.cores,
        walltimeS: walltimeOf(task, a.input),
        queue: task.queue,
        site: task.site,
      };
      const key = `${need.memoryMb}/${need.cores}/${need.walltimeS}`;
      const result = decided.get(key) ?? broker(queues, need);
      decided.set(key, result);
      if (result.queue !== undefined)
        jobs.push(jobFor(task, a.input, a.attemptNr, result.queue, a.gateNodeId));
      else {
        stuck.push(a);
        reasons.add(result.reason);
      }
    }
    return { jobs, stuck, reasons };
  }

  private async submit(sql: Sql, jobs: NewJob[]): Promise<void> {
    for (let i = 0; i < jobs.length; i += CHUNK) {
      const chunk = jobs.slice(i, i + CHUNK);
      const { jobs: inserted } = await this.server.insertJobs({ jobs: chunk });
      const queueOf = new Map(chunk.map((j) => [j.inputId, j]));
      await sql.query(
        `UPDATE jedi.task_inputs t SET state = 'picked', panda_id = u.p, attempt_nr = u.a, queue = u.q,
           memory_mb = u.m, modified_at = now()
         FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::int[]) AS u(i, p, a, q, m)
         WHERE t.input_id = u.i`,
        [
          inserted.map((j) => j.inputId),
          inserted.map((j) => j.pandaId),
          inserted.map((j) => j.attemptNr),
          inserted.map((j) => queueOf.get(j.inputId)!.queue),
          inserted.map((j) => queueOf.get(j.inputId)!.memoryMb),
        ],
      );
    }
  }
}
