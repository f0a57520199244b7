import type { Command } from 'commander';
import { ExitCode } from '../errors/cli-error.js';
import { formatTable, isoOf, toJson } from '../format/table.js';
import { call } from '../grpc/call.js';
import type { CommandContext, JsonOption } from './context.js';
import { parseId } from './ids.js';

export interface QueuesOptions extends JsonOption {
  limits?: boolean;
  queue?: string;
}

/** `panda queues`: the catalogue with limits and active job counts. */
export async function runQueues(options: QueuesOptions, ctx: CommandContext): Promise<ExitCode> {
  if (options.limits) return runQueueLimits(options, ctx);
  const target = ctx.services.queues();
  const { queues } = await call(target, { signal: ctx.signal }, (c, o) => c.listQueues({}, o));
  const { stats } = await call(target, { signal: ctx.signal }, (c, o) =>
    c.queueStats({ queues: queues.map((q) => q.name) }, o),
  );
  const byName = new Map(stats.map((s) => [s.queue, s]));
  if (options.json) {
    ctx.output.out(toJson({ queues: queues.map((q) => ({ ...q, stats: byName.get(q.name) ?? null })) }));
    return ExitCode.Ok;
  }
  ctx.output.out(
    formatTable(
      [
        'QUEUE',
        'SITE',
        'STATUS',
        'CORES',
        'MAXRSS_MB',
        'MAXTIME_S',
        'ACTIVATED',
        'SENT',
        'STARTING',
        'RUNNING',
      ],
      queues.map((q) => {
        const s = byName.get(q.name);
        return [
          q.name,
          q.site,
          q.status,
          q.corecount,
          q.maxrssMb,
          q.maxtimeS,
          s?.activated ?? 0,
          s?.sent ?? 0,
          s?.starting ?? 0,
          s?.running ?? 0,
        ];
      }),
    ),
  );
  return ExitCode.Ok;
}

/**
 * `panda queues --limits`: harvester's view per queue (GetQueueLimits): limits, workers by
 * state, and how many workers the adjuster would submit now, with what bound that number.
 */
async function runQueueLimits(options: QueuesOptions, ctx: CommandContext): Promise<ExitCode> {
  const res = await call(ctx.services.workers(), { signal: ctx.signal }, (c, o) =>
    c.getQueueLimits({ queue: options.queue ?? '' }, o),
  );
  if (options.json) {
    ctx.output.out(toJson(res));
    return ExitCode.Ok;
  }
  const w = (q: (typeof res.queues)[number], ...states: string[]) =>
    states.reduce((n, s) => n + (q.workers[s] ?? 0), 0);
  ctx.output.out(
    formatTable(
      [
        'QUEUE',
        'STATUS',
        'MODE',
        'SUBMITTER',
        'MAX_WORKERS',
        'Q_LIMIT',
        'PER_CYCLE',
        'ACTIVATED',
        'SUBMITTED',
        'RUNNING',
        'NEW',
        'BOUND_BY',
      ],
      res.queues.map((q) => [
        q.queue,
        q.status,
        q.mode,
        q.served ? q.submitter : `${q.submitter} (not served)`,
        q.maxWorkers,
        q.nQueueLimitWorker,
        q.maxNewWorkersPerCycle,
        q.activatedJobs,
        w(q, 'submitted'),
        w(q, 'running', 'idle'),
        q.nNewWorkers,
        q.boundBy,
      ]),
    ),
  );
  ctx.output.out(`total cap ${res.maxWorkersTotal} workers, ${res.totalRemaining} more allowed now`);
  return ExitCode.Ok;
}

export interface WorkersOptions extends JsonOption {
  queue?: string;
  state?: string;
  limit?: string;
  /** Also cores, memory, walltime and the log URL. */
  wide?: boolean;
}

/** `panda workers [--wide]`: harvester's workers, newest first. */
export async function runWorkers(options: WorkersOptions, ctx: CommandContext): Promise<ExitCode> {
  const limit = options.limit === undefined ? 50 : parseId(options.limit, 'limit');
  const { workers } = await call(ctx.services.workers(), { signal: ctx.signal }, (c, o) =>
    c.listWorkers({ queue: options.queue ?? '', state: options.state ?? '', limit }, o),
  );
  if (options.json) {
    ctx.output.out(toJson({ workers }));
    return ExitCode.Ok;
  }
  const headers = [
    'WORKER',
    'QUEUE',
    'STATE',
    'SUBMITTER',
    'BATCH',
    'NATIVE',
    'SUBMITTED',
    'ENDED',
    'EXIT',
    'ERROR',
    'DIAG',
  ];
  const wide = ['CORES', 'MEMORY_MB', 'WALLTIME_S', 'LOG'];
  ctx.output.out(
    formatTable(
      options.wide ? [...headers, ...wide] : headers,
      workers.map((w) => [
        w.workerId,
        w.queue,
        w.state,
        w.submitter,
        w.batchId,
        w.nativeStatus,
        isoOf(w.submittedAt),
        isoOf(w.endedAt),
        w.exitCode,
        w.errorCode || '',
        w.diag.slice(0, 50),
        ...(options.wide ? [w.cores, w.memoryMb, w.walltimeS, w.logUrl] : []),
      ]),
    ),
  );
  return ExitCode.Ok;
}

export function registerInfra(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('queues')
    .description('list queues with their limits and active jobs')
    .option('--limits', "harvester's view: limits, workers and what the adjuster would submit now")
    .option('--queue <name>', 'with --limits: one queue')
    .option('--json', 'print {queues} as JSON')
    .action(async (options: QueuesOptions) => done(await runQueues(options, ctx)));
  program
    .command('workers')
    .description("list harvester's workers (pilots)")
    .option('--queue <name>', 'queue name')
    .option('--state <state>', 'submitted, running, idle, finished, failed, cancelled, missed')
    .option('--limit <n>', 'how many (default 50)')
    .option('--wide', 'also cores, memory, walltime (0 = no limit) and where the worker log is')
    .option('--json', 'print {workers} as JSON (all fields)')
    .action(async (options: WorkersOptions) => done(await runWorkers(options, ctx)));
}
