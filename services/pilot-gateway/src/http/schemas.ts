import { z } from 'zod';

const count = () => z.number().int().min(0).max(2_147_483_647);
const text = (max: number) => z.string().max(max);

/** Body of `POST /pilot/v1/getJob`. Unknown fields are refused. */
export const getJobBody = z.strictObject({
  queue: z.string().min(1).max(200),
  node: text(256).default(''),
  memoryMb: count().default(0),
  cores: count().default(0),
  remainingWalltimeS: count().default(0),
  workerId: text(200).default(''),
  /** Push mode: hold the call up to this many seconds until a job is activated on the queue. */
  waitS: z.number().int().min(0).max(300).default(0),
});
export type GetJobBody = z.infer<typeof getJobBody>;

/** The states a pilot may report. */
export const PILOT_REPORTED_STATES = ['starting', 'running', 'finished', 'failed'] as const;

const kb = () => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const secs = () => z.number().min(0).max(1e9);

/** panda.server.v1.JobMetrics as JSON (memory in kB, times in s). Unknown fields are refused. */
export const jobMetrics = z.strictObject({
  maxPssKb: kb().optional(),
  avgPssKb: kb().optional(),
  maxRssKb: kb().optional(),
  avgRssKb: kb().optional(),
  maxVmemKb: kb().optional(),
  avgVmemKb: kb().optional(),
  maxSwapKb: kb().optional(),
  avgSwapKb: kb().optional(),
  cpuTimeS: secs().optional(),
  maxProcesses: count().optional(),
  maxThreads: count().optional(),
  getjobS: secs().optional(),
  setupS: secs().optional(),
  payloadS: secs().optional(),
});

/** One extra error pair (source exe, sup, ...). */
export const jobError = z.strictObject({
  source: z.string().min(1).max(32),
  code: z.number().int().min(-2_147_483_648).max(2_147_483_647),
  diag: text(4000).default(''),
});

/** Body of `POST /pilot/v1/updateJob`. Unknown fields are refused. */
export const updateJobBody = z.strictObject({
  pandaId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  state: z.enum(PILOT_REPORTED_STATES),
  attemptNr: count().default(0),
  exitCode: z.number().int().min(-2_147_483_648).max(2_147_483_647).default(0),
  errorCode: count().default(0),
  errorDiag: text(4000).default(''),
  node: text(256).default(''),
  workerId: text(200).default(''),
  errors: z.array(jobError).max(20).default([]),
  metrics: jobMetrics.optional(),
});
export type UpdateJobBody = z.infer<typeof updateJobBody>;

/** Multi-job pilots (the original's n_jobs): up to 1000 jobs in one call, no waiting. */
export const getJobsBody = getJobBody.omit({ waitS: true }).extend({
  nJobs: z.number().int().min(1).max(1000),
});

/** Bulk updates (the original's update_jobs_bulk), all from one worker. */
export const updateJobsBody = z
  .strictObject({
    workerId: text(200).default(''),
    updates: z.array(updateJobBody).min(1).max(1000),
  })
  .refine((b) => b.updates.every((u) => u.workerId === '' || u.workerId === b.workerId), {
    message: 'every update must carry the workerId of the call (or none)',
    path: ['updates'],
  });

/** First problem of a failed parse as `<field>: <message>` (`body` when not about one field). */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'body: invalid';
  if (issue.code === 'unrecognized_keys') {
    return `${[...issue.path, issue.keys[0] ?? 'body'].join('.')}: unknown field`;
  }
  const field = issue.path.length ? issue.path.join('.') : 'body';
  return `${field}: ${issue.message}`;
}
