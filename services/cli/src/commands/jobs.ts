import type { Command } from 'commander';
import { ExitCode } from '../errors/cli-error.js';
import { formatFields, formatTable, isoOf, toJson } from '../format/table.js';
import { call } from '../grpc/call.js';
import type { CommandContext, JsonOption } from './context.js';
import { optId, parseId } from './ids.js';

export interface JobsOptions extends JsonOption {
  workflow?: string;
  task?: string;
  state?: string;
  queue?: string;
  limit?: string;
  after?: string;
}

/** `panda jobs`: jobs filtered by workflow, task, state and queue, in PandaID order, one page. */
export async function runJobs(options: JobsOptions, ctx: CommandContext): Promise<ExitCode> {
  const limit = options.limit === undefined ? 100 : parseId(options.limit, 'limit');
  const request = {
    workflowId: optId(options.workflow, 'workflow id'),
    taskId: optId(options.task, 'task id'),
    state: options.state ?? '',
    queue: options.queue ?? '',
    limit,
    afterPandaId: optId(options.after, 'PandaID'),
  };
  const { jobs } = await call(ctx.services.jobs(), { signal: ctx.signal }, (c, o) => c.listJobs(request, o));
  const last = jobs[jobs.length - 1];
  const next = jobs.length === limit && last ? last.pandaId : null;
  if (options.json) {
    ctx.output.out(toJson({ jobs, next }));
    return ExitCode.Ok;
  }
  ctx.output.out(
    formatTable(
      ['PANDAID', 'TASK', 'LABEL', 'NAME', 'STATE', 'ATTEMPT', 'QUEUE', 'ERROR', 'DIAG'],
      jobs.map((j) => [
        j.pandaId,
        j.taskId,
        j.label,
        j.name,
        j.state,
        j.attemptNr,
        j.queue,
        j.errorCode,
        j.errorDiag.slice(0, 60),
      ]),
    ),
  );
  if (next !== null) ctx.output.err(`more: --after ${next}`);
  return ExitCode.Ok;
}

/** `panda job <pandaId>`: every attribute, error pairs and measurements. */
export async function runJob(idText: string, options: JsonOption, ctx: CommandContext): Promise<ExitCode> {
  const pandaId = parseId(idText, 'PandaID');
  const jobs = ctx.services.jobs();
  const job = await call(jobs, { signal: ctx.signal, notFound: `job ${pandaId} not found` }, (c, o) =>
    c.getJob({ pandaId }, o),
  );
  const { codes } = await call(jobs, { signal: ctx.signal }, (c, o) => c.errorCatalogue({ source: '' }, o));
  const info = (source: string, code: number) => codes.find((c) => c.source === source && c.code === code);
  const errors = job.errors.map((e) => ({
    ...e,
    description: info(e.source, e.code)?.shortDesc ?? '',
    category: info(e.source, e.code)?.category ?? '',
  }));
  if (options.json) {
    ctx.output.out(toJson({ job: { ...job, errors } }));
    return ExitCode.Ok;
  }
  const m = job.metrics;
  ctx.output.out(
    formatFields([
      ['job', job.pandaId],
      ['name', job.name],
      ['state', job.state],
      ['workflow', job.workflowId],
      ['task', job.taskId],
      ['label', job.label],
      ['attempt', `${job.attemptNr} of ${job.maxAttempts}`],
      ['queue', job.queue],
      ['worker', job.workerId || '-'],
      ['node', job.node || '-'],
      ['command', job.command],
      ['memory', `${job.memoryMb} MB, ${job.cores} core(s)`],
      ['exit code', job.exitCode],
      ['created', isoOf(job.createdAt)],
      ['started', isoOf(job.startTime)],
      ['ended', isoOf(job.endTime)],
      ['max PSS', m ? `${(m.maxPssKb / 1024).toFixed(1)} MB` : '-'],
    ]),
  );
  if (errors.length) {
    ctx.output.out('');
    ctx.output.out(
      formatTable(
        ['SOURCE', 'CODE', 'CATEGORY', 'DESCRIPTION', 'DIAG'],
        errors.map((e) => [e.source, e.code, e.category, e.description, e.diag.slice(0, 80)]),
      ),
    );
  }
  return ExitCode.Ok;
}

export function registerJobs(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('jobs')
    .description('list jobs (one page, PandaID order)')
    .option('--workflow <id>', 'workflow id')
    .option('--task <id>', 'task id')
    .option('--state <state>', 'job state, e.g. failed')
    .option('--queue <name>', 'queue name')
    .option('--limit <n>', 'page size (default 100)')
    .option('--after <pandaId>', 'start after this PandaID (the next page)')
    .option('--json', 'print {jobs, next} as JSON')
    .action(async (options: JobsOptions) => done(await runJobs(options, ctx)));
  program
    .command('job')
    .description('show one job: attributes, every error with its description, measurements')
    .argument('<pandaId>', 'PandaID')
    .option('--json', 'print {job} as JSON')
    .action(async (id: string, options: JsonOption) => done(await runJob(id, options, ctx)));
}
