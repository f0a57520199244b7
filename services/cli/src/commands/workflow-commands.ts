import { workflowToJson } from '@panda/platform';
import type { Command } from 'commander';
import { ClientError, Status } from 'nice-grpc-common';
import { CliError, ExitCode } from '../errors/cli-error.js';
import { formatProgress } from '../format/workflow.js';
import { call } from '../grpc/call.js';
import type { CommandContext, JsonOption } from './context.js';
import { parseId } from './ids.js';

type Verb = 'cancel' | 'restart';

/**
 * `panda cancel|restart <id>`: idds CancelWorkflow / RestartWorkflow. An idds without them
 * (UNIMPLEMENTED) gives exit 2 and a clear message; nothing is changed then.
 */
export async function runWorkflowCommand(
  verb: Verb,
  idText: string,
  options: JsonOption,
  ctx: CommandContext,
): Promise<ExitCode> {
  const workflowId = parseId(idText, 'workflow id');
  const rpc = verb === 'cancel' ? 'CancelWorkflow' : 'RestartWorkflow';
  try {
    const workflow = await call(
      ctx.services.idds(),
      { signal: ctx.signal, notFound: `workflow ${workflowId} not found` },
      (c, o) =>
        verb === 'cancel' ? c.cancelWorkflow({ workflowId }, o) : c.restartWorkflow({ workflowId }, o),
    );
    ctx.output.out(
      options.json ? JSON.stringify(workflowToJson(workflow), null, 2) : formatProgress(workflow),
    );
    return ExitCode.Ok;
  } catch (err) {
    const cause = err instanceof CliError ? err.cause : err;
    if (cause instanceof ClientError && cause.code === Status.UNIMPLEMENTED) {
      throw new CliError(
        `${verb} is not yet supported by idds (no ${rpc} RPC); nothing was changed`,
        ExitCode.Usage,
        {
          cause,
        },
      );
    }
    throw err;
  }
}

export function registerWorkflowCommands(
  program: Command,
  ctx: CommandContext,
  done: (code: ExitCode) => void,
): void {
  program
    .command('cancel')
    .description('cancel a workflow: kill its tasks, it ends Cancelled')
    .argument('<id>', 'workflow id')
    .option('--json', 'print the workflow as JSON')
    .action(async (id: string, options: JsonOption) =>
      done(await runWorkflowCommand('cancel', id, options, ctx)),
    );
  program
    .command('restart')
    .description('re-run the failed and pruned jobs of an ended workflow')
    .argument('<id>', 'workflow id')
    .option('--json', 'print the workflow as JSON')
    .action(async (id: string, options: JsonOption) =>
      done(await runWorkflowCommand('restart', id, options, ctx)),
    );
}
