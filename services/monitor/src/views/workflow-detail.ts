import { REPORT_COLUMNS, workflowCounts } from '@panda/platform';
import type { ReportRow, WorkflowReport } from '@panda/proto';
import { html } from './html.js';
import type { SafeHtml } from './html.js';
import type { TaskJson } from '../db/tasks.js';
import type { LabelEdge } from '../db/workflows.js';
import { hrefOf, link, queueLink, table, taskLink } from './components.js';
import { dagSvg } from './dag.js';
import { formatTime, renderPage, stateBadge } from './layout.js';
import { REFRESH_SECONDS } from './workflow-list.js';

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
export interface WorkflowDetailExtras {
  tasks?: TaskJson[] | null;
  dag?: LabelEdge[] | null;
  live?: string[] | undefined;
}

function tasksTable(tasks: readonly TaskJson[]): SafeHtml {
  return table(
    ['task', 'name', 'label', 'state', 'queue', 'inputs', 'finished', 'failed', 'missing', 'jobs'],
    tasks.map((t) => [
      taskLink(t.taskId),
      t.name,
      t.label,
      stateBadge(t.state),
      queueLink(t.queue),
      t.inputsTotal,
      t.inputsFinished,
      t.inputsFailed,
      t.inputsMissing,
      html`${link(hrefOf('/jobs', { taskId: t.taskId }), 'all')} ·
      ${link(hrefOf('/jobs', { taskId: t.taskId, state: 'failed' }), 'failed')}`,
    ]),
    'tasks',
  );
}

export function renderWorkflowDetail(
  report: WorkflowReport,
  jsonHref: string,
  extras: WorkflowDetailExtras = {},
): string {
  const w = report.workflow;
  const c = w ? workflowCounts(w) : undefined;
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
    </table>
    ${
      extras.dag
        ? html`<h2>DAG of labels</h2>
            ${dagSvg(report.rows, extras.dag)}`
        : null
    }
    ${
      extras.tasks
        ? html`<h2>Tasks</h2>
            ${tasksTable(extras.tasks)}`
        : null
    }
    ${
      w
        ? html`<p>
            ${link(hrefOf('/jobs', { workflowId: w.workflowId, state: 'failed' }), 'failed jobs')} ·
            ${link(hrefOf('/errors', { workflowId: w.workflowId, days: 3650 }), 'errors of this workflow')}
          </p>`
        : null
    }`;
  const title = w ? `Workflow ${w.workflowId} ${w.name}` : 'Workflow';
  return renderPage({ title, body, refreshSeconds: REFRESH_SECONDS, jsonHref, live: extras.live });
}
