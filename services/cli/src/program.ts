import { isAbortError } from 'abort-controller-x';
import { Command, CommanderError } from 'commander';
import { registerGen } from './commands/gen.js';
import { registerInfra } from './commands/infra.js';
import { registerJobs } from './commands/jobs.js';
import { registerLogs } from './commands/logs.js';
import { registerReport } from './commands/report.js';
import { registerTasks } from './commands/tasks.js';
import { registerWorkflowCommands } from './commands/workflow-commands.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import type { CommandContext, Output } from './commands/context.js';
import { CliError, ExitCode } from './errors/cli-error.js';

/** Builds the `panda` command tree; `done` receives the exit code of the command that ran. */
export function buildProgram(ctx: CommandContext, done: (code: ExitCode) => void): Command {
  const program = new Command('panda')
    .description('submit and follow PanDA workflows')
    .exitOverride()
    // Options after a subcommand belong to it (`gen rubin --queue` is not `gen --queue`).
    .enablePositionalOptions()
    .showHelpAfterError('(run panda --help for usage)')
    .configureOutput({
      writeOut: (text) => ctx.output.out(text.trimEnd()),
      writeErr: (text) => ctx.output.err(text.trimEnd()),
    });
  registerSubmit(program, ctx, done);
  registerStatus(program, ctx, done);
  registerReport(program, ctx, done);
  registerWorkflowCommands(program, ctx, done);
  registerTasks(program, ctx, done);
  registerJobs(program, ctx, done);
  registerLogs(program, ctx, done);
  registerInfra(program, ctx, done);
  registerGen(program, ctx, done);
  return program;
}

/**
 * Runs the CLI on `args` (without node and script) and returns the exit code; every
 * failure is reported here as one `error: ...` line on stderr.
 */
export async function runCli(args: readonly string[], ctx: CommandContext): Promise<number> {
  let code: ExitCode = ExitCode.Ok;
  const program = buildProgram(ctx, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
    return code;
  } catch (err) {
    return reportError(err, ctx.output, ctx.signal);
  }
}

function reportError(err: unknown, output: Output, signal: AbortSignal): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
      ? ExitCode.Ok
      : ExitCode.Usage;
  }
  if (err instanceof CliError) {
    output.err(`error: ${err.message}`);
    return err.exitCode;
  }
  if (isAbortError(err) || signal.aborted) {
    output.err('error: interrupted');
    return ExitCode.Interrupted;
  }
  output.err(`error: ${err instanceof Error ? err.message : String(err)}`);
  return ExitCode.NotOk;
}
