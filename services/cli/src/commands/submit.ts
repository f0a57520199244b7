import type { Workflow } from '@panda/proto';
import type { Command } from 'commander';
import { ExitCode } from '../errors/cli-error.js';
import { formatProgress, isTerminal } from '../format/workflow.js';
import { call } from '../grpc/call.js';
import { readWorkflowFile } from '../workflow-file/parse.js';
import type { CommandContext, JsonOption } from './context.js';

export interface SubmitOptions extends JsonOption {
  wait?: boolean;
}

/**
 * `panda submit <file>`: submits a workflow file to idds. With `--wait`, polls until the
 * workflow is in a terminal state and exits 0 only if it Finished.
 */
export async function runSubmit(
  file: string,
  options: SubmitOptions,
  ctx: CommandContext,
): Promise<ExitCode> {
  const spec = await readWorkflowFile(file);
  const idds = ctx.services.idds();
  const { workflowId } = await call(idds, { signal: ctx.signal }, (c, o) =>
    c.submitWorkflow({ workflow: spec }, o),
  );
  ctx.output.out(options.json ? `{"workflowId": ${workflowId}}` : `workflow ${workflowId} submitted`);
  if (!options.wait) return ExitCode.Ok;

  // Progress goes to stderr with --json so that stdout stays one JSON document.
  const progress = options.json ? ctx.output.err.bind(ctx.output) : ctx.output.out.bind(ctx.output);
  let last = '';
  for (;;) {
    const workflow: Workflow = await call(
      idds,
      { signal: ctx.signal, notFound: `workflow ${workflowId} not found` },
      (c, o) => c.getWorkflow({ workflowId }, o),
    );
    const line = formatProgress(workflow);
    if (line !== last) progress(line);
    last = line;
    if (isTerminal(workflow.state)) return workflow.state === 'Finished' ? ExitCode.Ok : ExitCode.NotOk;
    await ctx.sleep(ctx.pollIntervalMs, ctx.signal);
  }
}

export function registerSubmit(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('submit')
    .description('submit a workflow file (YAML or JSON) to idds')
    .argument('<file>', 'workflow file: name, campaign, user, queue, maxAttempts, jobs[]')
    .option('--wait', 'poll every second until the workflow ends; exit 0 only if it Finished')
    .option('--json', 'print {"workflowId": <id>} (progress of --wait goes to stderr)')
    .action(async (file: string, options: SubmitOptions) => done(await runSubmit(file, options, ctx)));
}
