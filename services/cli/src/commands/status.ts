import { workflowToJson } from '@panda/platform';
import type { Command } from 'commander';
import { ExitCode } from '../errors/cli-error.js';
import { formatStatus } from '../format/workflow.js';
import { call } from '../grpc/call.js';
import { parseWorkflowId } from './context.js';
import type { CommandContext, JsonOption } from './context.js';

/** `panda status <id>`: one workflow's state and counts. */
export async function runStatus(idText: string, options: JsonOption, ctx: CommandContext): Promise<ExitCode> {
  const workflowId = parseWorkflowId(idText);
  const workflow = await call(
    ctx.services.idds(),
    { signal: ctx.signal, notFound: `workflow ${workflowId} not found` },
    (c, o) => c.getWorkflow({ workflowId }, o),
  );
  ctx.output.out(options.json ? JSON.stringify(workflowToJson(workflow), null, 2) : formatStatus(workflow));
  return ExitCode.Ok;
}

export function registerStatus(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('status')
    .description("show a workflow's state and job counts")
    .argument('<id>', 'workflow id')
    .option('--json', 'print the workflow as JSON')
    .action(async (id: string, options: JsonOption) => done(await runStatus(id, options, ctx)));
}
