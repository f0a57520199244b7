import type { Command } from 'commander';
import { ExitCode } from '../errors/cli-error.js';
import { formatReportTable } from '../format/report-table.js';
import { workflowToJson } from '../format/workflow.js';
import { call } from '../grpc/call.js';
import { parseWorkflowId } from './context.js';
import type { CommandContext, JsonOption } from './context.js';

/** `panda report <id>`: the per-label job-state table, like `bps report --id`. */
export async function runReport(idText: string, options: JsonOption, ctx: CommandContext): Promise<ExitCode> {
  const workflowId = parseWorkflowId(idText);
  const report = await call(
    ctx.services.idds(),
    { signal: ctx.signal, notFound: `workflow ${workflowId} not found` },
    (c, o) => c.getReport({ workflowId }, o),
  );
  if (options.json) {
    const json = {
      workflow: report.workflow ? workflowToJson(report.workflow) : null,
      rows: report.rows,
      total: report.total ?? null,
    };
    ctx.output.out(JSON.stringify(json, null, 2));
  } else {
    ctx.output.out(formatReportTable(report));
  }
  return ExitCode.Ok;
}

export function registerReport(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('report')
    .description('show the per-label job-state table of a workflow (like bps report --id)')
    .argument('<id>', 'workflow id')
    .option('--json', 'print {workflow, rows, total} as JSON')
    .action(async (id: string, options: JsonOption) => done(await runReport(id, options, ctx)));
}
