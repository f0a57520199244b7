import type { Command } from 'commander';
import { CliError, ExitCode, usageError } from '../errors/cli-error.js';
import type { CommandContext } from './context.js';
import { parseId } from './ids.js';

export interface LogsOptions {
  follow?: boolean;
  archive?: boolean;
}

interface LogAnswer {
  available: boolean;
  text: string;
  message: string;
}

/** Fetches the log through the monitor (`/jobs/<id>/log?json`), which reads the pilot-gateway. */
async function fetchLog(ctx: CommandContext, pandaId: number, archive: boolean): Promise<LogAnswer> {
  const base = ctx.monitorUrl;
  if (!base) throw usageError('PANDA_MONITOR_URL is not set: logs are read through the monitor');
  const url = `${base.replace(/\/$/, '')}/jobs/${pandaId}/log?json${archive ? '&archive=1' : ''}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]) });
  } catch (err) {
    if (ctx.signal.aborted) throw new CliError('interrupted', ExitCode.Interrupted);
    throw new CliError(
      `cannot reach the monitor at ${base}: ${(err as Error).message}`,
      ExitCode.Unavailable,
    );
  }
  if (res.status === 404) throw new CliError(`job ${pandaId} not found`, ExitCode.NotFound);
  if (!res.ok) throw new CliError(`the monitor answered ${res.status}`, ExitCode.Unavailable);
  return (await res.json()) as LogAnswer;
}

/** `panda logs <pandaId> [-f]`: prints the job's log; with -f keeps printing what is appended. */
export async function runLogs(idText: string, options: LogsOptions, ctx: CommandContext): Promise<ExitCode> {
  const pandaId = parseId(idText, 'PandaID');
  let shown = 0;
  for (;;) {
    const log = await fetchLog(ctx, pandaId, Boolean(options.archive));
    if (!log.available) {
      throw new CliError(`no log for job ${pandaId}: ${log.message}`, ExitCode.NotFound);
    }
    if (log.text.length > shown) ctx.output.out(log.text.slice(shown).replace(/\n$/, ''));
    shown = log.text.length;
    if (!options.follow) return ExitCode.Ok;
    await ctx.sleep(2 * ctx.pollIntervalMs, ctx.signal);
  }
}

export function registerLogs(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('logs')
    .description("print a job's log (through the monitor); -f follows it until Ctrl-C")
    .argument('<pandaId>', 'PandaID')
    .option('-f, --follow', 'keep printing new lines')
    .option('--archive', 'the stored log archive instead of the live tail')
    .action(async (id: string, options: LogsOptions) => done(await runLogs(id, options, ctx)));
}
