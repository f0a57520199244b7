import type { Outbox, OutgoingEvent, Sql } from '@panda/platform';
import { InputsDone } from '@panda/proto';
import type { InputResult, JobChange, JobsChanged, JobServiceClient, NewJob } from '@panda/proto';
import type { TaskRow } from '../tasks/task-store.js';
import { closeTaskIfDone } from '../tasks/task-store.js';
import type { InputRow } from './input-row.js';
import { jobFor } from './input-row.js';
import { submitJobs } from './job-submitter.js';

/** Final job states JEDI acts on. */
export const ENDED_JOB_STATES = ['finished', 'failed', 'cancelled', 'closed'] as const;

/** What happens to an input when its current job ended: pure, unit-tested. */
export function verdict(change: JobChange, maxAttempts: number): 'finished' | 'retry' | 'failed' {
  if (change.state === 'finished') return 'finished';
  if (change.state === 'cancelled') return 'failed';
  return change.attemptNr < maxAttempts ? 'retry' : 'failed';
}

/**
 * A job ended: mark its input finished, retry it with a new job (attempt + 1), or mark it
 * failed; count it on the task; tell idds through `panda.input.done`; close the task when
 * every input is done. Changes for a job that is no longer the input's current one are stale
 * and ignored.
 */
export function onJobsEnded(outbox: Outbox, server: JobServiceClient) {
  return async (sql: Sql, event: JobsChanged): Promise<void> => {
    const byTask = new Map<number, JobChange[]>();
    for (const c of event.jobs) byTask.set(c.taskId, [...(byTask.get(c.taskId) ?? []), c]);
    for (const [taskId, changes] of [...byTask].sort(([a], [b]) => a - b)) {
      await handleTask(sql, outbox, server, taskId, changes);
    }
  };
}

async function handleTask(
  sql: Sql,
  outbox: Outbox,
  server: JobServiceClient,
  taskId: number,
  changes: JobChange[],
) {
  const [task] = await sql.query<TaskRow>(`SELECT * FROM jedi.tasks WHERE task_id = $1 FOR UPDATE`, [taskId]);
  if (!task) return;
  const inputs = await sql.query<InputRow>(
    `SELECT * FROM jedi.task_inputs WHERE input_id = ANY($1::bigint[]) ORDER BY input_id FOR UPDATE`,
    [changes.map((c) => c.inputId)],
  );
  const byId = new Map(inputs.map((i) => [Number(i.input_id), i]));
  const results: InputResult[] = [];
  const retries: NewJob[] = [];
  for (const c of changes) {
    const input = byId.get(c.inputId);
    if (!input || input.state !== 'picked' || Number(input.panda_id) !== c.pandaId) continue;
    const v = verdict(c, task.max_attempts);
    if (v === 'retry') {
      retries.push(jobFor(task, input, input.attempt_nr + 1));
      continue;
    }
    results.push({
      nodeId: Number(input.node_id),
      status: v,
      pandaId: c.pandaId,
      exitCode: c.exitCode,
      attempts: input.attempt_nr,
    });
  }
  if (retries.length) await submitJobs(sql, server, retries);
  if (results.length === 0) return;

  const finished = results.filter((r) => r.status === 'finished');
  const failed = results.filter((r) => r.status === 'failed');
  await sql.query(
    `UPDATE jedi.task_inputs SET state = u.s, modified_at = now()
     FROM unnest($1::bigint[], $2::text[]) AS u(n, s) WHERE node_id = u.n`,
    [results.map((r) => r.nodeId), results.map((r) => r.status)],
  );
  const [counted] = await sql.query<TaskRow>(
    `UPDATE jedi.tasks SET inputs_finished = inputs_finished + $2, inputs_failed = inputs_failed + $3,
       modified_at = now() WHERE task_id = $1 RETURNING *`,
    [taskId, finished.length, failed.length],
  );
  const events: OutgoingEvent[] = [
    {
      subject: 'panda.input.done',
      payload: InputsDone.encode({ workflowId: Number(task.workflow_id), taskId, results }).finish(),
    },
  ];
  await outbox.write(sql, events);
  await closeTaskIfDone(sql, outbox, counted!);
}
