import type { Sql } from '@panda/platform';
import type { JobServiceClient, NewJob } from '@panda/proto';

const CHUNK = 5000;

/**
 * Inserts jobs into the server (idempotent there on input+attempt) and records each
 * input's current panda id and attempt in the caller's transaction.
 */
export async function submitJobs(sql: Sql, server: JobServiceClient, jobs: NewJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += CHUNK) {
    const { jobs: inserted } = await server.insertJobs({ jobs: jobs.slice(i, i + CHUNK) });
    await sql.query(
      `UPDATE jedi.task_inputs t SET state = 'picked', panda_id = u.p, attempt_nr = u.a, modified_at = now()
       FROM unnest($1::bigint[], $2::bigint[], $3::int[]) AS u(i, p, a) WHERE t.input_id = u.i`,
      [inserted.map((j) => j.inputId), inserted.map((j) => j.pandaId), inserted.map((j) => j.attemptNr)],
    );
  }
}
