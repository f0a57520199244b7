import { InvalidArgumentError } from '@panda/platform';
import type { Sql } from '@panda/platform';
import type { JobSpec, SubmitWorkflowChunk, WorkflowSpec } from '@panda/proto';
import { finalJobNode, FINAL_LABEL, resolveJob, taskSettings } from './resolve.js';
import { readAhead } from './read-ahead.js';
import { jobField, validateHeader, validateJob, validateParents } from './validate.js';

interface OpenTask {
  ref: string;
  taskNo: number;
  chunk: number;
  size: number;
}

/**
 * Stores a streamed workflow inside one transaction, batch by batch, so memory follows the
 * batch, not the DAG: nodes and edges of each batch go in with one statement each. Parents
 * must come before their children (earlier batch, or earlier in the same batch), which also
 * rules out cycles. Duplicates and unknown parents are found by the database and reported
 * with the job's position and name; any error rolls everything back.
 */
export class StreamIngest {
  private workflowId = '';
  private wf: WorkflowSpec | undefined;
  private readonly tasks = new Map<string, OpenTask>();
  private position = 0;

  constructor(
    private readonly sql: Sql,
    private readonly maxJobsPerTask: number,
    private readonly defaultMaxAttempts: number,
  ) {}

  async run(
    chunks: AsyncIterable<SubmitWorkflowChunk>,
    signal?: AbortSignal,
  ): Promise<{ workflowId: number; total: number }> {
    for await (const chunk of readAhead(chunks)) {
      signal?.throwIfAborted();
      if (!this.wf) {
        if (!chunk.header)
          throw new InvalidArgumentError('header', 'the first message must carry the workflow');
        await this.start(chunk.header);
      } else if (chunk.header) {
        throw new InvalidArgumentError('header', 'only the first message may carry the workflow');
      }
      if (chunk.jobs.length) await this.add(chunk.jobs);
    }
    // A cancelled call ends the request stream quietly: never commit half a workflow.
    signal?.throwIfAborted();
    if (!this.wf) throw new InvalidArgumentError('header', 'the stream was empty');
    if (this.position === 0) throw new InvalidArgumentError('workflow.jobs', 'has no jobs');
    const final = finalJobNode(this.wf);
    if (final) await this.insertNodes([final], true);
    await this.sql.query(`UPDATE idds.workflows SET total = $2 WHERE workflow_id = $1`, [
      this.workflowId,
      this.position + (final ? 1 : 0),
    ]);
    return { workflowId: Number(this.workflowId), total: this.position };
  }

  private async start(header: WorkflowSpec): Promise<void> {
    if (header.jobs.length)
      throw new InvalidArgumentError('header.jobs', 'send jobs in the following messages');
    validateHeader(header);
    this.wf = header;
    const [row] = await this.sql.query<{ workflow_id: string }>(
      `INSERT INTO idds.workflows (name, user_name, campaign, queue, max_attempts, state, total, site,
         memory_multiplier, memory_max_mb, final_when)
       VALUES ($1, $2, $3, $4, $5, 'New', 0, $6, $7, $8, $9) RETURNING workflow_id`,
      [
        header.name,
        header.user,
        header.campaign,
        header.queue,
        header.maxAttempts || this.defaultMaxAttempts,
        header.site,
        header.memoryMultiplier,
        header.memoryMaxMb,
        finalJobNode(header) ? header.finalJob!.whenRun || 'ALWAYS' : '',
      ],
    );
    this.workflowId = row!.workflow_id;
  }

  private async add(batch: JobSpec[]): Promise<void> {
    const here = new Map<string, number>();
    batch.forEach((j, k) => {
      const i = this.position + k;
      validateJob(j, i);
      if (here.has(j.name)) throw new InvalidArgumentError(jobField(i, j), 'duplicate job name');
      // Self and repeated parents here; unknown ones in the database below.
      validateParents(j, i, () => true);
      here.set(j.name, k);
    });
    batch.forEach((j, k) => {
      for (const p of j.parents) {
        if ((here.get(p) ?? -1) > k) {
          throw new InvalidArgumentError(
            jobField(this.position + k, j),
            `parent '${p}' comes after it (send parents first)`,
          );
        }
      }
    });
    const ids = await this.insertNodes(
      batch.map((j) => resolveJob(this.wf!, j)),
      false,
    );
    await this.insertEdges(batch, ids);
    this.position += batch.length;
  }

  private taskFor(label: string): string | undefined {
    const open = this.tasks.get(label);
    const max = this.wf!.maxJobsPerTask || this.maxJobsPerTask;
    if (open && open.size < max) {
      open.size++;
      return open.ref;
    }
    return undefined;
  }

  private async openTask(label: string): Promise<string> {
    const previous = this.tasks.get(label);
    const taskNo = previous?.taskNo ?? this.tasks.size + 1;
    const chunk = (previous?.chunk ?? 0) + 1;
    const s = taskSettings(this.wf!, label, this.defaultMaxAttempts);
    const pad = (n: number) => String(n).padStart(2, '0');
    const [row] = await this.sql.query<{ task_ref: string }>(
      `INSERT INTO idds.tasks (workflow_id, name, label, chunk, queue, site, max_attempts, priority, walltime_s,
         memory_multiplier, memory_max_mb)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING task_ref`,
      [
        this.workflowId,
        `${this.wf!.name}_${pad(taskNo)}_${label}_${pad(chunk)}`,
        label,
        chunk,
        s.queue,
        s.site,
        s.maxAttempts,
        s.priority,
        s.walltimeS,
        s.memoryMultiplier,
        s.memoryMaxMb,
      ],
    );
    this.tasks.set(label, { ref: row!.task_ref, taskNo, chunk, size: 1 });
    return row!.task_ref;
  }

  /** Inserts the nodes; returns their ids by name. */
  private async insertNodes(jobs: JobSpec[], final: boolean): Promise<Map<string, string>> {
    const refs: string[] = [];
    for (const j of jobs)
      refs.push(this.taskFor(j.label) ?? (await this.openTask(final ? FINAL_LABEL : j.label)));
    const inserted = await this.sql.query<{ node_id: string; name: string }>(
      `INSERT INTO idds.nodes (workflow_id, task_ref, name, label, command, memory_mb, cores, state, n_parents, is_final)
       SELECT $1, r, n, l, c, m, k, 'unreleased', p, $9
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[])
         AS u(r, n, l, c, m, k, p)
       ON CONFLICT (workflow_id, name) DO NOTHING RETURNING node_id, name`,
      [
        this.workflowId,
        refs,
        jobs.map((j) => j.name),
        jobs.map((j) => j.label),
        jobs.map((j) => j.command),
        jobs.map((j) => j.memoryMb),
        jobs.map((j) => j.cores),
        jobs.map((j) => j.parents.length),
        final,
      ],
    );
    if (inserted.length < jobs.length) {
      const stored = new Set(inserted.map((r) => r.name));
      const k = jobs.findIndex((j) => !stored.has(j.name));
      throw new InvalidArgumentError(
        jobField(this.position + k, jobs[k]!),
        'duplicate job name (sent before)',
      );
    }
    return new Map(inserted.map((r) => [r.name, r.node_id]));
  }

  /**
   * Edges by id: children are the batch's own nodes, parents from the batch or looked up
   * by name one at a time through the unique index (a scalar subquery per name, so the plan
   * cannot turn into a hash of the whole workflow while its statistics are still empty).
   */
  private async insertEdges(batch: JobSpec[], ids: Map<string, string>): Promise<void> {
    const earlier = [...new Set(batch.flatMap((j) => j.parents.filter((p) => !ids.has(p))))];
    if (earlier.length) {
      const found = await this.sql.query<{ name: string; node_id: string | null }>(
        `SELECT u.name, (SELECT node_id FROM idds.nodes n WHERE n.workflow_id = $1 AND n.name = u.name) AS node_id
         FROM unnest($2::text[]) AS u(name)`,
        [this.workflowId, earlier],
      );
      for (const r of found) if (r.node_id !== null) ids.set(r.name, r.node_id);
    }
    const parents: string[] = [];
    const children: string[] = [];
    for (const [k, j] of batch.entries()) {
      for (const p of j.parents) {
        const parentId = ids.get(p);
        if (parentId === undefined) {
          throw new InvalidArgumentError(
            jobField(this.position + k, j),
            `parent '${p}' does not exist (or comes later: send parents first)`,
          );
        }
        parents.push(parentId);
        children.push(ids.get(j.name)!);
      }
    }
    if (parents.length === 0) return;
    await this.sql.query(
      `INSERT INTO idds.edges (parent_id, child_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])`,
      [parents, children],
    );
  }
}
