import type { ErrorCodeInfo } from '@panda/proto';
import type { ErrorSummary } from '../db/errors.js';
import type { Histogram, TaskJson } from '../db/tasks.js';
import { describe } from '../catalogue/catalogue.js';
import { fields, hrefOf, link, queueLink, stateCounts, table, workflowLink } from './components.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';
import { histogramSvg } from './histogram.js';
import { renderPage, stateBadge } from './layout.js';

export interface TaskPage {
  task: TaskJson;
  jobStates: Record<string, number>;
  inputStates: Record<string, number>;
  maxPss: Histogram;
  duration: Histogram;
  errors: ErrorSummary;
}

/** Top error codes with catalogue descriptions, each linking to the jobs that have it. */
export function errorCodesTable(
  rows: ErrorSummary['overall'],
  codes: Map<string, ErrorCodeInfo>,
  jobsQuery: Record<string, string | number | undefined>,
): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">no errors</p>`;
  return table(
    ['source', 'code', 'count', 'description', 'category', 'example diagnostic'],
    rows.map((r) => {
      const info = describe(codes, r.source, r.code);
      return [
        r.source,
        link(hrefOf('/jobs', { ...jobsQuery, errorCode: r.code }), r.code),
        r.count,
        info ? info.shortDesc : '',
        info ? info.category : '',
        html`<span class="wrap">${r.sample}</span>`,
      ];
    }),
    'errors',
  );
}

export function renderTaskDetail(
  p: TaskPage,
  codes: Map<string, ErrorCodeInfo>,
  jsonHref: string,
  live?: string[],
): string {
  const t = p.task;
  const jobs = (state?: string) => hrefOf('/jobs', { taskId: t.taskId, state });
  const body = html`<h1>Task ${t.taskId}: ${t.name}</h1>
    ${fields([
      ['state', stateBadge(t.state)],
      ['workflow', workflowLink(t.workflowId)],
      ['label', t.label],
      ['queue', queueLink(t.queue)],
      ['priority', t.priority],
      ['max attempts', t.maxAttempts],
      [
        'inputs',
        `${t.inputsTotal} total, ${t.inputsFinished} finished, ${t.inputsFailed} failed, ${t.inputsMissing} missing`,
      ],
      ['created', t.createdAt ?? '-'],
      ['modified', t.modifiedAt ?? '-'],
    ])}
    <h2>Jobs by state</h2>
    <p id="job-states">
      ${stateCounts(p.jobStates, (s) => jobs(s))} · ${link(jobs(), 'all jobs')} ·
      ${link(hrefOf('/jobs', { taskId: t.taskId, drop: true }), 'latest attempts only')}
    </p>
    <h2>Inputs by state</h2>
    <p>${stateCounts(p.inputStates)}</p>
    <h2>Memory and duration</h2>
    ${histogramSvg(p.maxPss)}${histogramSvg(p.duration)}
    <h2>Errors</h2>
    ${errorCodesTable(p.errors.overall, codes, { taskId: t.taskId })}`;
  return renderPage({ title: `Task ${t.taskId} ${t.name}`, body, jsonHref, live, refreshSeconds: 10 });
}
