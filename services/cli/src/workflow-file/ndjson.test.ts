import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpec } from '@panda/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../errors/cli-error.js';
import { isNdjsonFile, openNdjsonWorkflow, writeNdjsonWorkflow } from './ndjson.js';

const header = { name: 'big', queue: 'SLAC_Rubin', labels: { isr: { memoryMb: 3000 } } };
const job = (i: number, parents: string[] = []) => ({
  name: `j${i}`,
  label: 'isr',
  command: 'true',
  parents,
});
const lines = (...docs: unknown[]) =>
  `${docs.map((d) => (typeof d === 'string' ? d : JSON.stringify(d))).join('\n')}\n`;

let dir = '';
let n = 0;
const fileWith = async (text: string) => {
  const path = join(dir, `w${n++}.ndjson`);
  await writeFile(path, text);
  return path;
};

async function readAll(path: string, batchJobs?: number): Promise<{ batches: JobSpec[][]; name: string }> {
  const wf = await openNdjsonWorkflow(path, batchJobs ? { batchJobs } : {});
  const batches: JobSpec[][] = [];
  for await (const b of wf.batches()) batches.push(b);
  return { batches, name: wf.header.name };
}

async function usageErrorOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  expect((err as CliError).exitCode).toBe(ExitCode.Usage);
  return (err as CliError).message;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'panda-ndjson-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('NDJSON workflows', () => {
  it('knows its file names', () => {
    expect(isNdjsonFile('a/b.ndjson')).toBe(true);
    expect(isNdjsonFile('b.JSONL')).toBe(true);
    expect(isNdjsonFile('b.json')).toBe(false);
    expect(isNdjsonFile('b.yaml')).toBe(false);
  });

  it('reads the header as a WorkflowSpec without jobs, with the YAML defaults', async () => {
    const wf = await openNdjsonWorkflow(await fileWith(lines(header, job(0))));
    wf.close();
    expect(wf.header).toMatchObject({
      name: 'big',
      queue: 'SLAC_Rubin',
      maxAttempts: 0,
      jobs: [],
      finalJob: undefined,
    });
    expect(wf.header.labels.isr).toMatchObject({ memoryMb: 3000, cores: 0, environment: {} });
  });

  it('yields the jobs in file order, in batches of the given size, skipping blank lines', async () => {
    const docs = Array.from({ length: 12 }, (_, i) => job(i, i ? [`j${i - 1}`] : []));
    const path = await fileWith(lines(header, '', ...docs.slice(0, 5), '   ', ...docs.slice(5)));
    const { batches } = await readAll(path, 5);
    expect(batches.map((b) => b.length)).toEqual([5, 5, 2]);
    expect(batches.flat().map((j) => j.name)).toEqual(docs.map((d) => d.name));
    expect(batches[0]![1]).toEqual({
      name: 'j1',
      label: 'isr',
      command: 'true',
      parents: ['j0'],
      memoryMb: 0,
      cores: 0,
    });
  });

  it('also ends a batch at its character budget', async () => {
    const path = await fileWith(lines(header, ...Array.from({ length: 10 }, (_, i) => job(i))));
    const wf = await openNdjsonWorkflow(path, { batchJobs: 100, batchChars: 150 });
    const sizes: number[] = [];
    for await (const b of wf.batches()) sizes.push(b.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThan(10);
  });

  it('names the line and the job of a bad job, after the batches before it', async () => {
    const path = await fileWith(lines(header, job(0), job(1), { ...job(2), memory: 5 }, job(3)));
    const wf = await openNdjsonWorkflow(path, { batchJobs: 2 });
    const seen: string[] = [];
    const message = await usageErrorOf(
      (async () => {
        for await (const b of wf.batches()) seen.push(...b.map((j) => j.name));
      })(),
    );
    expect(seen).toEqual(['j0', 'j1']);
    expect(message).toContain(`${path}:4: invalid job:`);
    expect(message).toContain('jobs[2] (job "j2"): unknown key "memory"');
    const broken = await fileWith(lines(header, job(0), '{"name": "x",'));
    expect(await usageErrorOf(readAll(broken))).toContain(':3: jobs[1]: not valid JSON');
    const missing = await fileWith(lines(header, { name: 'y', label: 'isr' }));
    expect(await usageErrorOf(readAll(missing))).toContain('jobs[0] (job "y").command');
  });

  it('refuses a bad header before any job is read', async () => {
    expect(await usageErrorOf(openNdjsonWorkflow(await fileWith('')))).toContain('empty');
    expect(
      await usageErrorOf(openNdjsonWorkflow(await fileWith(lines({ ...header, jobs: [job(0)] })))),
    ).toContain('must not carry jobs');
    expect(
      await usageErrorOf(openNdjsonWorkflow(await fileWith(lines({ ...header, priorty: 1 })))),
    ).toContain(':1: invalid workflow header:\n  workflow: unknown key "priorty"');
    expect(await usageErrorOf(openNdjsonWorkflow(await fileWith(lines(job(0)))))).toContain('unknown keys');
    expect(await usageErrorOf(openNdjsonWorkflow(await fileWith('[1]\n')))).toContain(
      'must be a JSON object',
    );
    expect(await usageErrorOf(openNdjsonWorkflow(join(dir, 'none.ndjson')))).toContain('no such file');
  });

  it('writes what it reads back: header line, then one job per line', async () => {
    const path = join(dir, 'out.ndjson');
    const jobs = Array.from({ length: 3000 }, (_, i) => job(i, i ? [`j${i - 1}`] : []));
    await writeNdjsonWorkflow(path, header, jobs, { out: () => undefined });
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(3002);
    const { batches, name } = await readAll(path, 1000);
    expect(name).toBe('big');
    expect(batches.flat().map((j) => j.parents)).toEqual(jobs.map((j) => j.parents));
    const printed: string[] = [];
    await writeNdjsonWorkflow(undefined, header, jobs.slice(0, 2), { out: (l) => printed.push(l) });
    expect(printed.map((l) => JSON.parse(l) as unknown)).toEqual([header, jobs[0], jobs[1]]);
  });
});
