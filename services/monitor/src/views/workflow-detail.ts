import type { ReportRow, WorkflowReport } from '@panda/proto';
import { countsOf } from '../idds/workflows.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';
import { formatTime, renderPage, stateBadge } from './layout.js';
import { REFRESH_SECONDS } from './workflow-list.js';

/** Per-label columns, as in `bps report --id`: the WmsStates names plus EXPECTED. */
export const REPORT_COLUMNS = [
  ['UNKNOWN', 'unknown'],
  ['MISFIT', 'misfit'],
  ['UNREADY', 'unready'],
  ['READY', 'ready'],
  ['PENDING', 'pending'],
  ['RUNNING', 'running'],
  ['DELETED', 'deleted'],
  ['HELD', 'held'],
  ['SUCCEEDED', 'succeeded'],
  ['FAILED', 'failed'],
  ['PRUNED', 'pruned'],
  ['EXPECTED', 'expected'],
] as const satisfies readonly (readonly [string, keyof Omit<ReportRow, 'label'>])[];

function reportRow(label: string, row: Partial<ReportRow> | undefined, cls?: string): SafeHtml {
  return html`<tr${cls ? html` class="${cls}"` : null}><td>${label}</td>${REPORT_COLUMNS.map(
    ([, key]) => html`<td class="num">${row?.[key] ?? 0}</td>`,
  )}</tr>
`;
}

function progressBar(finished: number, failed: number, pruned: number, total: number): SafeHtml {
  if (total <= 0) return html``;
  const pct = (n: number) => `${((100 * n) / total).toFixed(1)}%`;
  return html`<div class="bar" title="${finished} finished, ${failed} failed, ${pruned} pruned of ${total}">
    <span class="finished" style="width:${pct(finished)}"></span
    ><span class="failed" style="width:${pct(failed)}"></span
    ><span class="pruned" style="width:${pct(pruned)}"></span>
  </div>`;
}

/** One workflow: its header fields and the per-label report table with a TOTAL row. */
export function renderWorkflowDetail(report: WorkflowReport, jsonHref: string): string {
  const w = report.workflow;
  const c = w ? countsOf(w) : undefined;
  const header = w
    ? html`<h1>Workflow ${w.workflowId}: ${w.name}</h1>
        <dl class="fields">
          <dt>state</dt>
          <dd>${stateBadge(w.state)}</dd>
          <dt>user</dt>
          <dd>${w.user}</dd>
          <dt>campaign</dt>
          <dd>${w.campaign}</dd>
          <dt>queue</dt>
          <dd>${w.queue}</dd>
          <dt>jobs</dt>
          <dd>
            ${c?.total} total: ${c?.released} released, ${c?.unreleased} unreleased, ${c?.processing}
            processing, ${c?.finished} finished, ${c?.failed} failed, ${c?.pruned} pruned, ${c?.remaining}
            remaining
          </dd>
          <dt>progress</dt>
          <dd>${progressBar(c?.finished ?? 0, c?.failed ?? 0, c?.pruned ?? 0, c?.total ?? 0)}</dd>
          <dt>created</dt>
          <dd>${formatTime(w.createdAt)}</dd>
          <dt>updated</dt>
          <dd>${formatTime(w.updatedAt)}</dd>
        </dl>`
    : html`<h1>Workflow</h1>`;
  const body = html`${header}
    <h2>Jobs by label</h2>
    <table class="report">
      <thead>
        <tr>
          <th>LABEL</th>
          ${REPORT_COLUMNS.map(([title]) => html`<th class="num">${title}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${report.rows.map((row) => reportRow(row.label, row))}${reportRow('TOTAL', report.total, 'total')}
      </tbody>
    </table>`;
  const title = w ? `Workflow ${w.workflowId} ${w.name}` : 'Workflow';
  return renderPage({ title, body, refreshSeconds: REFRESH_SECONDS, jsonHref });
}
