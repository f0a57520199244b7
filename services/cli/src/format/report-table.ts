import { REPORT_COLUMNS } from '@panda/platform';
import type { ReportRow, WorkflowReport } from '@panda/proto';

/**
 * Renders a report like `bps report --id`: a header line with the workflow id, state and
 * name, then one row per label (in the order given) and a TOTAL row; numbers are
 * right-aligned, labels left-aligned, columns separated by two spaces.
 */
export function formatReportTable(report: WorkflowReport): string {
  const w = report.workflow;
  const header = w ? `workflow ${w.workflowId}  state ${w.state}  name ${w.name}` : 'workflow ?';
  const cells = (label: string, row: Partial<ReportRow> | undefined): string[] => [
    label,
    ...REPORT_COLUMNS.map(([, key]) => String(row?.[key] ?? 0)),
  ];
  const titles = ['LABEL', ...REPORT_COLUMNS.map(([title]) => title)];
  const lines = [titles, ...report.rows.map((row) => cells(row.label, row)), cells('TOTAL', report.total)];
  const widths = titles.map((_, i) => Math.max(...lines.map((cols) => cols[i]?.length ?? 0)));
  const render = (cols: string[]): string =>
    cols
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [header, '', ...lines.map(render)].join('\n');
}
