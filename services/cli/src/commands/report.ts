import { workflowToJson } from '@panda/platform';
import type { Command } from 'commander';
import { ExitCode } from '../errors/cli-error.js';
import { formatReportTable } from '../format/report-table.js';
import { call } from '../grpc/call.js';
import { parseWorkflowId } from './context.js';
import type { CommandContext, JsonOption } from './context.js';

/** `panda report <id>`: the per-label job-state table, like `bps report --id`. */
interface ReportOptions extends JsonOption {
  exitCodes?: boolean;
}

/** Payload exit codes of failed jobs per label, as `bps report --exit-codes` adds them. */
export function formatExitCodes(
  exitCodes: readonly { label: string; exitCode: number; count: number }[],
): string {
  if (exitCodes.length === 0) return 'no payload exit codes (no job failed with a non-zero exit)';
  const width = Math.max(5, ...exitCodes.map((e) => e.label.length));
  const lines = [`${'LABEL'.padEnd(width)}  EXIT CODE  COUNT`];
  for (const e of exitCodes) {
    lines.push(`${e.label.padEnd(width)}  ${String(e.exitCode).padStart(9)}  ${String(e.count).padStart(5)}`);
  }
  return lines.join('\n');
}

export async function runReport(
  idText: string,
  options: ReportOptions,
  ctx: CommandContext,
): Promise<ExitCode> {
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
      exitCodes: report.exitCodes,
    };
    ctx.output.out(JSON.stringify(json, null, 2));
  } else {
    ctx.output.out(formatReportTable(report));
    if (options.exitCodes) ctx.output.out(`\n${formatExitCodes(report.exitCodes)}`);
  }
  return ExitCode.Ok;
}

export function registerReport(program: Command, ctx: CommandContext, done: (code: ExitCode) => void): void {
  program
    .command('report')
    .description('show the per-label job-state table of a workflow (like bps report --id)')
    .argument('<id>', 'workflow id')
    .option('--json', 'print {workflow, rows, total, exitCodes} as JSON')
    .option('--exit-codes', 'add the payload exit codes of failed jobs per label')
    .action(async (id: string, options: ReportOptions) => done(await runReport(id, options, ctx)));
}
