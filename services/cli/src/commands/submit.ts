import type { SubmitWorkflowChunk, Workflow } from '@panda/proto';
import type { Command } from 'commander';
import type { CallOptions } from 'nice-grpc-common';
import { ExitCode } from '../errors/cli-error.js';
import { formatProgress, isTerminal } from '../format/workflow.js';
import { call } from '../grpc/call.js';
import { isNdjsonFile, openNdjsonWorkflow } from '../workflow-file/ndjson.js';
import type { NdjsonWorkflow } from '../workflow-file/ndjson.js';
import { readWorkflowFile } from '../workflow-file/parse.js';
import type { CommandContext, JsonOption } from './context.js';

export interface SubmitOptions extends JsonOption {
  wait?: boolean;
}

/**
 * A streamed submission may take long for millions of jobs (the file is read as it is sent
 * and idds stores each batch as it comes): its deadline is this, not the CLI's usual one.
 */
export const STREAM_DEADLINE_MS = 30 * 60_000;

/**
 * The header, then the jobs in batches as the file is read (parents first, as in the file).
 * A bad line found after the stream started is kept in `failure`, and the stream is ended
 * with a second header, which idds refuses (INVALID_ARGUMENT), rolling back what it stored.
 * Cancelling the call instead is not safe: idds commits a cancelled stream as if complete.
 */
async function* streamChunks(
  workflow: NdjsonWorkflow,
  failure: { error?: unknown },
): AsyncGenerator<SubmitWorkflowChunk> {
  yield { header: workflow.header, jobs: [] };
  try {
    for await (const jobs of workflow.batches()) yield { header: undefined, jobs };
  } catch (err) {
    failure.error = err;
    yield { header: workflow.header, jobs: [] };
  }
}

/** Streams an NDJSON workflow to idds; returns its id. */
async function submitNdjson(file: string, ctx: CommandContext): Promise<number> {
  // The header is read (and checked) before idds is called.
  const workflow = await openNdjsonWorkflow(file);
  const failure: { error?: unknown } = {};
  try {
    const { workflowId } = await call(ctx.services.idds(), { signal: ctx.signal }, (c, o) => {
      // The deadline middleware reads `deadline` (a number is ms from now) over the default.
      const long: CallOptions & { deadline: number } = { ...o, deadline: STREAM_DEADLINE_MS };
      return c.submitWorkflowStream(streamChunks(workflow, failure), long);
    });
    if (failure.error) throw failure.error; // idds should have refused; the file is bad anyway
    return workflowId;
  } catch (err) {
    throw failure.error ?? err;
  } finally {
    workflow.close();
  }
}

/**
 * `panda submit <file>`: submits a workflow file to idds: YAML or JSON in one call, NDJSON
 * (`.ndjson`, `.jsonl`) streamed with SubmitWorkflowStream without reading the whole file.
 * With `--wait`, polls until the workflow is in a terminal state and exits 0 only if it
 * Finished.
 */
export async function runSubmit(
  file: string,
  options: SubmitOptions,
  ctx: CommandContext,
): Promise<ExitCode> {
  const idds = ctx.services.idds();
  let workflowId: number;
  if (isNdjsonFile(file)) {
    workflowId = await submitNdjson(file, ctx);
  } else {
    const spec = await readWorkflowFile(file);
    ({ workflowId } = await call(idds, { signal: ctx.signal }, (c, o) =>
      c.submitWorkflow({ workflow: spec }, o),
    ));
  }
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
    .description('submit a workflow file (YAML, JSON, or NDJSON streamed for big workflows) to idds')
    .argument(
      '<file>',
      'workflow file: name, campaign, user, queue, maxAttempts, labels, finalJob, jobs[]; ' +
        'a .ndjson/.jsonl file has those keys but jobs on its first line, then one job per line',
    )
    .option('--wait', 'poll every second until the workflow ends; exit 0 only if it Finished')
    .option('--json', 'print {"workflowId": <id>} (progress of --wait goes to stderr)')
    .action(async (file: string, options: SubmitOptions) => done(await runSubmit(file, options, ctx)));
}
