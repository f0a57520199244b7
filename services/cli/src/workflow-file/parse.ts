import { readFile } from 'node:fs/promises';
import type { WorkflowSpec } from '@panda/proto';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { usageError } from '../errors/cli-error.js';
import type { CliError } from '../errors/cli-error.js';

const count = () => z.number().int().min(0).default(0);
const text = () => z.string().default('');

export const jobSchema = z.strictObject({
  name: z.string().min(1),
  label: text(),
  command: z.string().min(1),
  parents: z.array(z.string().min(1)).default([]),
  memoryMb: count(),
  cores: count(),
});

const environment = () => z.record(z.string(), z.string()).default({});

const labelSchema = z.strictObject({
  memoryMb: count(),
  cores: count(),
  walltimeS: count(),
  queue: text(),
  site: text(),
  maxAttempts: count(),
  memoryMultiplier: z.number().min(0).default(0),
  memoryMaxMb: count(),
  priority: count(),
  environment: environment(),
});

const finalJobSchema = z.strictObject({
  command: z.string().min(1),
  whenRun: z.enum(['ALWAYS', 'SUCCESS', 'NEVER']).default('ALWAYS'),
  memoryMb: count(),
  cores: count(),
  queue: text(),
  environment: environment(),
});

/** Every top-level key but `jobs` (also the first line of an NDJSON workflow). */
export const headerSchema = z.strictObject({
  name: z.string().min(1),
  campaign: text(),
  user: text(),
  queue: text(),
  maxAttempts: count(),
  site: text(),
  memoryMultiplier: z.number().min(0).default(0),
  memoryMaxMb: count(),
  maxJobsPerTask: count(),
  priority: count(),
  labels: z.record(z.string(), labelSchema).default({}),
  finalJob: finalJobSchema.optional(),
});

const workflowSchema = headerSchema.extend({ jobs: z.array(jobSchema).min(1) });

export type ParsedHeader = z.infer<typeof headerSchema>;

/** The parsed top level as a WorkflowSpec (`whenRun` defaulted, `finalJob` explicit). */
export function toWorkflowSpec(parsed: ParsedHeader, jobs: WorkflowSpec['jobs']): WorkflowSpec {
  const { finalJob, ...rest } = parsed;
  return { ...rest, jobs, finalJob: finalJob ? { ...finalJob, whenRun: finalJob.whenRun } : undefined };
}

/**
 * Parses a workflow file (YAML, or JSON which YAML reads too) into a WorkflowSpec.
 * Unknown keys and bad values are refused with a message naming the key and the job.
 * Missing numbers become 0 (the server's defaults), missing strings ''.
 * Throws a usage CliError.
 */
export function parseWorkflowFile(source: string, fileName: string): WorkflowSpec {
  const doc = parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw usageError(`${fileName}: not valid YAML or JSON: ${(first?.message ?? 'parse error').trimEnd()}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw usageError(`${fileName}: expected a mapping with name and jobs at the top level`);
  }
  const result = workflowSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeIssue(issue, raw));
    throw usageError(`${fileName}: invalid workflow:\n  ${problems.join('\n  ')}`);
  }
  const { jobs, ...header } = result.data;
  return toWorkflowSpec(header, jobs);
}

/** Reads and parses `path`; an unreadable file is a usage error. */
export async function readWorkflowFile(path: string): Promise<WorkflowSpec> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (err) {
    throw cannotRead(path, err);
  }
  return parseWorkflowFile(source, path);
}

/** The usage error for a workflow file that cannot be opened or read. */
export function cannotRead(path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  return usageError(
    `${path}: cannot read workflow file${code === 'ENOENT' ? ': no such file' : `: ${(err as Error).message}`}`,
  );
}

/** `jobs[2] (job "calib"): unknown key "memory"` and the like. */
function describeIssue(issue: z.core.$ZodIssue, raw: object): string {
  const path = issue.path;
  if (path[0] === 'jobs' && typeof path[1] === 'number') {
    const job: unknown = (raw as { jobs?: unknown[] }).jobs?.[path[1]];
    return describeJobIssue({ ...issue, path: path.slice(2) }, path[1], job);
  }
  return describeIssueAt('workflow', issue);
}

/** An issue of job number `i` (its path relative to the job), naming the job if it has a name. */
export function describeJobIssue(issue: z.core.$ZodIssue, i: number, job: unknown): string {
  const name = job !== null && typeof job === 'object' ? (job as { name?: unknown }).name : undefined;
  return describeIssueAt(`jobs[${i}]${typeof name === 'string' && name ? ` (job "${name}")` : ''}`, issue);
}

/** `<where><.field>: <message>`, unknown keys listed by name. */
export function describeIssueAt(where: string, issue: z.core.$ZodIssue): string {
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    return `${where}${field}: unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
  }
  return `${where}${field}: ${issue.message}`;
}
