import type { Database, Logger, Outbox } from '@panda/platform';
import type { InputRow } from '../inputs/input-row.js';
import type { JobGenerator } from '../inputs/job-generator.js';
import type { TaskRow } from './task-store.js';

const BATCH = 5000;

/** Tries brokerage again for pending tasks (no queue fitted last time), every `everyMs`. */
export class PendingLoop {
  constructor(
    private readonly db: Database,
    private readonly outbox: Outbox,
    private readonly generator: JobGenerator,
    private readonly logger: Logger,
  ) {}

  async pass(): Promise<void> {
    const tasks = await this.db.query<{ task_id: string }>(
      `SELECT task_id FROM jedi.tasks WHERE state = 'pending' ORDER BY priority DESC, task_id LIMIT 100`,
    );
    for (const { task_id } of tasks) {
      await this.outbox.tx(async (sql) => {
        const [task] = await sql.query<TaskRow>(
          `SELECT * FROM jedi.tasks WHERE task_id = $1 AND state = 'pending' FOR UPDATE SKIP LOCKED`,
          [task_id],
        );
        if (!task) return;
        const inputs = await sql.query<InputRow>(
          `SELECT * FROM jedi.task_inputs WHERE task_id = $1 AND state = 'ready' ORDER BY input_id LIMIT $2 FOR UPDATE`,
          [task_id, BATCH],
        );
        await this.generator.generate(
          sql,
          task,
          inputs.map((input) => ({ input, attemptNr: input.attempt_nr + 1 })),
        );
      });
    }
  }

  async run(everyMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, everyMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (signal.aborted) return;
      try {
        await this.pass();
      } catch (err) {
        this.logger.error({ err }, 'pending brokerage pass failed');
      }
    }
  }
}
