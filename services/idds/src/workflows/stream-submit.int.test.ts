import { randomBytes } from 'node:crypto';
import { Database } from '@panda/platform';
import type { JobSpec, SubmitWorkflowChunk, WorkflowSpec } from '@panda/proto';
import { createDatabase } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations, SCHEMA } from '../db/migrations.js';
import { jobSpec, workflowSpec } from './specs.fixture.js';
import { StreamIngest } from './stream-submit.js';

const header = (extra: Partial<WorkflowSpec> = {}) => workflowSpec({ name: 'big', campaign: 'c', ...extra });
const job = (name: string, label: string, parents: string[]): JobSpec => jobSpec(name, parents, { label });

/** pipetaskInit -> per visit x detector isr -> characterizeImage -> calibrate, in batches. */
async function* rubinShaped(
  detectors: number,
  batch: number,
  wf: WorkflowSpec,
): AsyncGenerator<SubmitWorkflowChunk> {
  yield { header: wf, jobs: [] };
  let jobs: JobSpec[] = [job('init', 'pipetaskInit', [])];
  for (let d = 0; d < detectors; d++) {
    jobs.push(job(`isr_${d}`, 'isr', ['init']), job(`char_${d}`, 'characterizeImage', [`isr_${d}`]));
    jobs.push(job(`cal_${d}`, 'calibrate', [`char_${d}`]));
    if (jobs.length >= batch) {
      yield { header: undefined, jobs };
      jobs = [];
    }
  }
  if (jobs.length) yield { header: undefined, jobs };
}

async function* chunks(...list: SubmitWorkflowChunk[]): AsyncGenerator<SubmitWorkflowChunk> {
  for (const c of list) yield c;
}

describe('streamed workflow ingestion', () => {
  let db: Database;

  beforeAll(async () => {
    const url = await createDatabase(inject('pgUrl'), `idds_${randomBytes(4).toString('hex')}`);
    db = await Database.connect({ url, schema: SCHEMA, migrations });
    await db.migrate();
  });
  afterAll(async () => {
    await db.close();
  });

  const count = async (table: string) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM idds.${table}`))[0]!.n;

  it('stores a 100k-node DAG in bulk, chunking labels into tasks', async () => {
    const started = performance.now();
    const { workflowId, total } = await db.tx((sql) =>
      new StreamIngest(sql, 10_000, 3).run(rubinShaped(33_333, 5000, header())),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`ingested ${total} nodes in ${seconds.toFixed(1)} s`);
    expect(total).toBe(1 + 3 * 33_333);
    const [wf] = await db.query<{ total: number; state: string }>(
      `SELECT total, state FROM idds.workflows WHERE workflow_id = $1`,
      [workflowId],
    );
    expect(wf).toEqual({ total: 100_000, state: 'New' });
    expect(await count('edges')).toBe(3 * 33_333);
    const tasks = await db.query<{ name: string }>(
      `SELECT name FROM idds.tasks WHERE workflow_id = $1 ORDER BY task_ref`,
      [workflowId],
    );
    expect(tasks.map((t) => t.name).slice(0, 3)).toEqual([
      'big_01_pipetaskInit_01',
      'big_02_isr_01',
      'big_03_characterizeImage_01',
    ]);
    expect(tasks.filter((t) => t.name.includes('_isr_'))).toHaveLength(4);
  });

  const refused = async (list: SubmitWorkflowChunk[], message: RegExp) => {
    const before = await count('nodes');
    const workflowsBefore = await count('workflows');
    await expect(db.tx((sql) => new StreamIngest(sql, 10_000, 3).run(chunks(...list)))).rejects.toThrow(
      message,
    );
    expect(await count('nodes')).toBe(before);
    expect(await count('workflows')).toBe(workflowsBefore);
  };

  it('refuses, naming the job, and stores nothing: unknown parent, parent sent later, duplicate', async () => {
    const h = { header: header({ name: 'bad' }), jobs: [] };
    await refused(
      [
        h,
        { header: undefined, jobs: [job('a', 'x', [])] },
        { header: undefined, jobs: [job('b', 'x', ['ghost'])] },
      ],
      /jobs\[1\] \(b\): parent 'ghost' does not exist/,
    );
    await refused(
      [h, { header: undefined, jobs: [job('b', 'x', ['a']), job('a', 'x', [])] }],
      /jobs\[0\] \(b\): parent 'a' comes after it/,
    );
    await refused(
      [h, { header: undefined, jobs: [job('a', 'x', [])] }, { header: undefined, jobs: [job('a', 'x', [])] }],
      /jobs\[1\] \(a\): duplicate job name/,
    );
    await refused([h], /has no jobs/);
    await refused(
      [{ header: undefined, jobs: [job('a', 'x', [])] }],
      /first message must carry the workflow/,
    );
  });
});
