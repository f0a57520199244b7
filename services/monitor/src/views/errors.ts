import type { ErrorCodeInfo } from '@panda/proto';
import type { ErrorFilters, ErrorSummary, KeyedErrorCount } from '../db/errors.js';
import { describe } from '../catalogue/catalogue.js';
import { filterForm, hrefOf, link, queueLink, table, taskLink } from './components.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';
import { renderPage } from './layout.js';
import { errorCodesTable } from './task-detail.js';

function keyed(
  title: string,
  rows: readonly KeyedErrorCount[],
  codes: Map<string, ErrorCodeInfo>,
  keyCell: (r: KeyedErrorCount) => SafeHtml | string,
  jobsQuery: (r: KeyedErrorCount) => Record<string, string | number | undefined>,
): SafeHtml {
  return html`<h2>${title}</h2>
    ${
      rows.length === 0
        ? html`<p class="muted">no errors</p>`
        : table(
            [title.replace('By ', ''), 'source', 'code', 'count', 'description', 'category'],
            rows.map((r) => [
              keyCell(r),
              r.source,
              link(hrefOf('/jobs', { ...jobsQuery(r), errorCode: r.code }), r.code),
              r.count,
              describe(codes, r.source, r.code)?.shortDesc ?? '',
              describe(codes, r.source, r.code)?.category ?? '',
            ]),
          )
    }`;
}

export function renderErrors(
  s: ErrorSummary,
  f: ErrorFilters,
  codes: Map<string, ErrorCodeInfo>,
  jsonHref: string,
): string {
  const base = { queue: f.queue, taskId: f.taskId, workflowId: f.workflowId };
  const body = html`<h1>Errors</h1>
    ${filterForm('/errors', [
      { name: 'days', value: f.days, type: 'number' },
      { name: 'queue', value: f.queue },
      { name: 'taskId', label: 'task', value: f.taskId, type: 'number' },
      { name: 'workflowId', label: 'workflow', value: f.workflowId, type: 'number' },
      { name: 'user', value: f.user },
      { name: 'limit', label: 'jobs read', value: f.limit, type: 'number' },
    ])}
    <p class="muted">
      ${s.jobs} job(s) that ended with an error in the last ${f.days}
      day(s)${s.jobs >= f.limit ? ` (the ${f.limit} most recent)` : ''}.
    </p>
    <h2>Top error codes</h2>
    ${errorCodesTable(s.overall, codes, base)}
    ${keyed(
      'By queue',
      s.byQueue,
      codes,
      (r) => queueLink(r.key),
      (r) => ({ ...base, queue: r.key }),
    )}
    ${keyed(
      'By task',
      s.byTask,
      codes,
      (r) => taskLink(Number(r.key), `${r.key} ${r.label ?? ''}`),
      (r) => ({ ...base, taskId: r.key }),
    )}
    ${keyed(
      'By user',
      s.byUser,
      codes,
      (r) => link(hrefOf('/errors', { days: f.days, user: r.key }), r.key),
      () => base,
    )}`;
  return renderPage({ title: 'Errors', body, jsonHref });
}
