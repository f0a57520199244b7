import type { Outbox, Sql } from '@panda/platform';
import type { JobChange, JobsChanged } from '@panda/proto';
import { decideRetry } from '../retry/decide.js';
import type { RetryRule } from '../retry/rules.js';
import type { TaskRow } from '../tasks/task-store.js';
import { settleInputs } from '../tasks/task-progress.js';
import type { Settled } from '../tasks/task-progress.js';
import type { InputRow } from './input-row.js';
import type { Attempt, JobGenerator } from './job-generator.js';

/** Final job states JEDI acts on. */
export const ENDED_JOB_STATES = ['finished', 'failed', 'cancelled', 'closed'] as const;

/** Tasks in these states make no new attempts. */
const WINDING_DOWN = new Set(['finishing', 'aborting', 'aborted', 'done', 'finished', 'failed']);

export type Verdict =
  | { kind: 'finished' }
  | { kind: 'failed'; reason: string }
  | { kind: 'retry'; memoryMb: number; walltimeS: number; failedAttempts: number; oomFailures: number };

/** What happens to an input when its current job ended. */
export function verdict(
  change: JobChange,
  input: InputRow,
  task: TaskRow,
  rules: readonly RetryRule[],
): Verdict {
  if (change.state === 'finished') return { kind: 'finished' };
  if (change.state === 'cancelled') return { kind: 'failed', reason: 'cancelled' };
  if (WINDING_DOWN.has(task.state)) return { kind: 'failed', reason: `task ${task.state}` };
  const history = {
    attemptNr: input.attempt_nr,
    failedAttempts: input.failed_attempts,
    oomFailures: input.oom_failures,
    baseMemoryMb: input.base_memory_mb,
    memoryMb: input.memory_mb,
    walltimeS: input.walltime_s || task.walltime_s,
  };
  if (change.state === 'closed') {
    // Ended by the system (reassigned, expired): try again, not the user's fault.
    return {
      kind: 'retry',
      memoryMb: input.memory_mb,
      walltimeS: input.walltime_s,
      failedAttempts: input.failed_attempts,
      oomFailures: input.oom_failures,
    };
  }
  const errors = [...change.errors];
  if (errors.length === 0 && change.errorCode)
    errors.push({ source: 'pilot', code: change.errorCode, diag: change.errorDiag });
  const policy = {
    maxAttempts: task.max_attempts,
    memoryMultiplier: task.memory_multiplier,
    memoryMaxMb: task.memory_max_mb,
  };
  const d = decideRetry(errors, history, policy, rules);
  return d.kind === 'failed' ? d : { ...d, kind: 'retry' };
}

/**
 * A job ended: mark its input finished, retry it (new job, attempt + 1, maybe more memory,
 * re-brokered) or mark it failed; count it on the task; tell idds through `panda.input.done`.
 * Changes for a job that is no longer the input's current one are stale and ignored.
 */
export function onJobsEnded(outbox: Outbox, generator: JobGenerator, rules: readonly RetryRule[]) {
  return async (sql: Sql, event: JobsChanged): Promise<void> => {
    const byTask = new Map<number, JobChange[]>();
    for (const c of event.jobs) {
      const list = byTask.get(c.taskId);
      if (list) list.push(c);
      else byTask.set(c.taskId, [c]);
    }
    for (const [taskId, changes] of [...byTask].sort(([a], [b]) => a - b)) {
      const [task] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [
        taskId,
      ]);
      if (!task) continue;
      const inputs = await sql.query<InputRow>(
        `SELECT * FROM jedi.task_inputs WHERE input_id = ANY($1::bigint[]) ORDER BY input_id FOR UPDATE`,
        [changes.map((c) => c.inputId)],
      );
      const byId = new Map(inputs.map((i) => [Number(i.input_id), i]));
      const settled: Settled[] = [];
      const retries: Attempt[] = [];
      for (const c of changes) {
        const input = byId.get(c.inputId);
        if (!input || input.state !== 'picked' || Number(input.panda_id) !== c.pandaId) continue;
        const v = verdict(c, input, task, rules);
        if (v.kind === 'retry') {
          const next = {
            ...input,
            memory_mb: v.memoryMb,
            walltime_s: v.walltimeS,
            failed_attempts: v.failedAttempts,
            oom_failures: v.oomFailures,
          };
          retries.push({ input: next, attemptNr: input.attempt_nr + 1 });
        } else {
          settled.push({ input, status: v.kind, pandaId: c.pandaId, exitCode: c.exitCode });
        }
      }
      if (retries.length) {
        await sql.query(
          `UPDATE jedi.task_inputs SET memory_mb = u.m, walltime_s = u.w, failed_attempts = u.f, oom_failures = u.o
           FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[], $5::int[]) AS u(i, m, w, f, o)
           WHERE input_id = u.i`,
          [
            retries.map((r) => r.input.input_id),
            retries.map((r) => r.input.memory_mb),
            retries.map((r) => r.input.walltime_s),
            retries.map((r) => r.input.failed_attempts),
            retries.map((r) => r.input.oom_failures),
          ],
        );
      }
      const current = await generator.generate(sql, task, retries);
      await settleInputs(sql, outbox, current, settled);
    }
  };
}
