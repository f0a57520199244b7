import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JobSpec, WorkflowSpec } from '@panda/proto';
import { CliError, usageError } from '../errors/cli-error.js';
import {
  cannotRead,
  describeIssueAt,
  describeJobIssue,
  headerSchema,
  jobSchema,
  toWorkflowSpec,
} from './parse.js';

/**
 * NDJSON workflows, for DAGs too big to hold in memory: the first line is the workflow as in
 * YAML without `jobs`, every following line one job, parents before children. Blank lines
 * are skipped.
 */

/** Jobs per SubmitWorkflowStream message. */
export const NDJSON_BATCH_JOBS = 5000;
/** A batch is also sent once its lines reach this size (idds takes messages up to 64 MiB). */
export const NDJSON_BATCH_CHARS = 8 * 1024 * 1024;

export const isNdjsonFile = (path: string): boolean => /\.(ndjson|jsonl)$/i.test(path);

export interface NdjsonWorkflow {
  /** The first line, as a WorkflowSpec with no jobs. */
  header: WorkflowSpec;
  /**
   * The jobs in file order, in batches of at most `batchJobs`, read as they are asked for
   * (memory follows the batch, not the file). Throws a usage CliError naming the line and
   * the job. Closes the file when done, failed or abandoned.
   */
  batches(): AsyncGenerator<JobSpec[]>;
  /** Closes the file (when `batches` is never iterated). */
  close(): void;
}

export interface NdjsonOptions {
  batchJobs?: number;
  batchChars?: number;
}

function parseLine(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${where}: not valid JSON: ${(err as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Opens `path` and reads its header line; a missing file or bad header is a usage CliError. */
export async function openNdjsonWorkflow(path: string, options: NdjsonOptions = {}): Promise<NdjsonWorkflow> {
  const batchJobs = options.batchJobs ?? NDJSON_BATCH_JOBS;
  const batchChars = options.batchChars ?? NDJSON_BATCH_CHARS;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw cannotRead(path, err);
  }
  const input = handle.createReadStream({ encoding: 'utf8' });
  // The async iterator of readline pauses the file when its queue is full: bounded memory.
  const rl = createInterface({ input, crlfDelay: Infinity });
  const lines = rl[Symbol.asyncIterator]();
  const close = () => {
    rl.close();
    input.destroy();
  };
  let lineNo = 0;
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      let r: IteratorResult<string>;
      try {
        r = await lines.next();
      } catch (err) {
        throw cannotRead(path, err);
      }
      if (r.done) return undefined;
      lineNo++;
      if (r.value.trim()) return r.value;
    }
  };

  let header: WorkflowSpec;
  try {
    const first = await nextLine();
    if (first === undefined) throw usageError(`${path}: empty: the first line must be the workflow header`);
    const raw = parseLine(first, `${path}:${lineNo} (header)`);
    if (!isObject(raw))
      throw usageError(`${path}:${lineNo}: the header must be a JSON object with name, queue...`);
    if ('jobs' in raw) {
      throw usageError(`${path}:${lineNo}: the header must not carry jobs: write one job per line after it`);
    }
    const parsed = headerSchema.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => describeIssueAt('workflow', issue));
      throw usageError(`${path}:${lineNo}: invalid workflow header:\n  ${problems.join('\n  ')}`);
    }
    header = toWorkflowSpec(parsed.data, []);
  } catch (err) {
    close();
    throw err instanceof CliError ? err : cannotRead(path, err);
  }

  async function* batches(): AsyncGenerator<JobSpec[]> {
    let batch: JobSpec[] = [];
    let chars = 0;
    let index = 0;
    try {
      for (let text = await nextLine(); text !== undefined; text = await nextLine()) {
        const where = `${path}:${lineNo}`;
        const raw = parseLine(text, `${where}: jobs[${index}]`);
        const job = jobSchema.safeParse(raw);
        if (!job.success) {
          const problems = job.error.issues.map((issue) => describeJobIssue(issue, index, raw));
          throw usageError(`${where}: invalid job:\n  ${problems.join('\n  ')}`);
        }
        batch.push(job.data);
        chars += text.length;
        index++;
        if (batch.length >= batchJobs || chars >= batchChars) {
          yield batch;
          batch = [];
          chars = 0;
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      close();
    }
  }

  return { header, batches, close };
}

/** Where `writeNdjsonWorkflow` prints when there is no file. */
export interface LineSink {
  out(line: string): void;
}

/**
 * Writes `header` (if any) and then `items`, one JSON document per line, to `path` with
 * backpressure (memory follows the chunk, not the workflow), or to `sink` line by line.
 */
export async function writeNdjsonWorkflow(
  path: string | undefined,
  header: object | undefined,
  items: Iterable<object>,
  sink: LineSink,
  signal?: AbortSignal,
): Promise<void> {
  function* lines(): Generator<string> {
    if (header) yield JSON.stringify(header);
    for (const item of items) yield JSON.stringify(item);
  }
  if (!path) {
    for (const line of lines()) sink.out(line);
    return;
  }
  function* chunks(): Generator<string> {
    let chunk = '';
    for (const line of lines()) {
      chunk += `${line}\n`;
      if (chunk.length >= 64 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path), signal ? { signal } : {});
}
