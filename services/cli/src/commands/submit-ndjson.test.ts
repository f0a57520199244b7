import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SubmitWorkflowChunk } from '@panda/proto';
import { ClientError, Status } from 'nice-grpc-common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../errors/cli-error.js';
import type { WorkflowClient } from '../grpc/services.js';
import { runCli } from '../program.js';
import type { CommandContext } from './context.js';

/**
 * idds's SubmitWorkflowStream as far as the CLI can tell: the first message carries the
 * header, later ones jobs (parents first); a later header or an unknown parent is refused
 * with INVALID_ARGUMENT naming the job, and nothing is kept.
 */
class StreamingIdds {
  chunks: SubmitWorkflowChunk[] = [];
  stored: string[] = [];
  options: { deadline?: unknown } | undefined;
  async submitWorkflowStream(
    chunks: AsyncIterable<SubmitWorkflowChunk>,
    options?: { deadline?: unknown },
  ): Promise<{ workflowId: number }> {
    this.options = options;
    const names = new Set<string>();
    let i = 0;
    for await (const c of chunks) {
      this.chunks.push(c);
      if (this.chunks.length > 1 && c.header) {
        throw new ClientError(
          '/x',
          Status.INVALID_ARGUMENT,
          'header: only the first message may carry the workflow',
        );
      }
      for (const j of c.jobs) {
        const missing = j.parents.find((p) => !names.has(p));
        if (missing) {
          throw new ClientError(
            '/x',
            Status.INVALID_ARGUMENT,
            `jobs[${i}] (${j.name}): parent '${missing}' does not exist`,
          );
        }
        names.add(j.name);
        i++;
      }
    }
    this.stored = [...names];
    return { workflowId: 7 };
  }
}

function harness(idds: StreamingIdds) {
  const out: string[] = [];
  const err: string[] = [];
  const client = idds as unknown as WorkflowClient;
  const unused = () => {
    throw new Error('not used');
  };
  const ctx: CommandContext = {
    services: {
      idds: () => ({ name: 'idds', address: '127.0.0.1:1', client }),
      jobs: unused,
      queues: unused,
      tasks: unused,
      workers: unused,
    },
    output: { out: (l) => out.push(l), err: (l) => err.push(l) },
    signal: new AbortController().signal,
    sleep: () => Promise.resolve(),
    pollIntervalMs: 0,
  };
  return { out, err, run: (...args: string[]) => runCli(args, ctx) };
}

const header = { name: 'big', queue: 'SLAC_Rubin' };
const job = (i: number) => ({
  name: `j${i}`,
  label: 'isr',
  command: 'true',
  parents: i ? [`j${i - 1}`] : [],
});
const ndjson = (docs: unknown[]) => `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'panda-submit-ndjson-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('panda submit <file>.ndjson', () => {
  it('streams the header, then the jobs in batches of 5000, with a long deadline', async () => {
    const file = join(dir, 'ok.ndjson');
    await writeFile(file, ndjson([header, ...Array.from({ length: 12_001 }, (_, i) => job(i))]));
    const idds = new StreamingIdds();
    const h = harness(idds);
    expect(await h.run('submit', file, '--json')).toBe(ExitCode.Ok);
    expect(h.out).toEqual(['{"workflowId": 7}']);
    expect(idds.chunks.map((c) => [c.header?.name, c.jobs.length])).toEqual([
      ['big', 0],
      [undefined, 5000],
      [undefined, 5000],
      [undefined, 2001],
    ]);
    expect(idds.chunks[0]!.header).toMatchObject({ queue: 'SLAC_Rubin', jobs: [] });
    expect(idds.stored).toHaveLength(12_001);
    expect(idds.options?.deadline).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it('maps INVALID_ARGUMENT naming the job to exit 2', async () => {
    const file = join(dir, 'order.ndjson');
    await writeFile(file, ndjson([header, job(0), job(2), job(1)]));
    const idds = new StreamingIdds();
    const h = harness(idds);
    expect(await h.run('submit', file)).toBe(ExitCode.Usage);
    expect(h.err).toEqual(["error: jobs[1] (j2): parent 'j1' does not exist"]);
  });

  it('on a bad line after batches were sent, ends the stream so that idds refuses it, and exits 2 naming the line', async () => {
    const file = join(dir, 'bad.ndjson');
    const docs: object[] = [header, ...Array.from({ length: 7000 }, (_, i) => job(i))];
    docs.splice(6001, 0, { name: 'x', label: 'isr', command: 'true', bogus: 1 });
    await writeFile(file, ndjson(docs));
    const idds = new StreamingIdds();
    const h = harness(idds);
    expect(await h.run('submit', file)).toBe(ExitCode.Usage);
    expect(h.err.join('\n')).toContain(
      `${file}:6002: invalid job:\n  jobs[6000] (job "x"): unknown key "bogus"`,
    );
    expect(idds.chunks.length).toBeGreaterThan(1); // a batch went out before the bad line...
    expect(idds.chunks.at(-1)?.header).toBeDefined(); // ...and a second header ended the stream
    expect(idds.stored).toEqual([]);
  });

  it('refuses a bad header without calling idds', async () => {
    const file = join(dir, 'header.ndjson');
    await writeFile(file, ndjson([{ ...header, jobs: [job(0)] }]));
    const idds = new StreamingIdds();
    const h = harness(idds);
    expect(await h.run('submit', file)).toBe(ExitCode.Usage);
    expect(idds.chunks).toEqual([]);
    expect(h.err.join('\n')).toContain('must not carry jobs');
  });
});
