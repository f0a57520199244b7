import type { WorkflowJson } from '@panda/platform';
import { filterForm, pager, stateCounts, workflowLink } from './components.js';
import { html } from './html.js';
import { renderPage, stateBadge } from './layout.js';

export interface WorkflowFilters {
  user?: string | undefined;
  state?: string | undefined;
  campaign?: string | undefined;
  days?: number | undefined;
  limit?: number | undefined;
}

export const REFRESH_SECONDS = 5;

const COUNT_COLUMNS = [
  'total',
  'released',
  'processing',
  'finished',
  'failed',
  'pruned',
  'remaining',
] as const;

/** The workflow table: one row per workflow, its id linking to the workflow's page. */
export function renderWorkflowList(
  workflows: readonly (WorkflowJson & { tasksByState?: Record<string, number> })[],
  filters: WorkflowFilters,
  jsonHref: string,
  options: { next?: number | null; live?: string[] | undefined } = {},
): string {
  const withTasks = workflows.some((w) => w.tasksByState);
  const rows = workflows.map(
    (w) =>
      html`<tr data-workflow="${w.workflowId}">
        <td class="num">${workflowLink(w.workflowId)}</td>
        <td>${w.name}</td>
        <td>${w.user}</td>
        <td>${w.campaign}</td>
        <td>${stateBadge(w.state)}</td>
        ${withTasks ? html`<td>${stateCounts(w.tasksByState ?? {})}</td>` : null}
        ${COUNT_COLUMNS.map((key) => html`<td class="num" data-count="${key}">${w.counts[key]}</td>`)}
        <td>${w.createdAt ? w.createdAt.slice(0, 19).replace('T', ' ') : '-'}</td>
      </tr> `,
  );
  const filtered = Boolean(filters.user || filters.state || filters.campaign || filters.days);
  const body = html`<h1>Workflows</h1>
    ${filterForm('/workflows', [
      { name: 'user', value: filters.user },
      { name: 'state', value: filters.state, placeholder: 'Transforming, Finished, …' },
      { name: 'campaign', value: filters.campaign },
      { name: 'days', value: filters.days, type: 'number' },
      { name: 'limit', value: filters.limit, type: 'number' },
    ])}
    ${
      workflows.length === 0
        ? html`<p class="muted">No workflows${filtered ? ' match these filters' : ''}.</p>`
        : html`<table class="workflows">
              <thead>
                <tr>
                  <th class="num">id</th>
                  <th>name</th>
                  <th>user</th>
                  <th>campaign</th>
                  <th>state</th>
                  ${withTasks ? html`<th>tasks</th>` : null}
                  ${COUNT_COLUMNS.map((key) => html`<th class="num">${key}</th>`)}
                  <th>created</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
            <p class="muted">${workflows.length} workflow${workflows.length === 1 ? '' : 's'}</p>`
    }
    ${pager('/workflows', { ...filters }, options.next ?? null)}`;
  return renderPage({
    title: 'Workflows',
    body,
    refreshSeconds: REFRESH_SECONDS,
    jsonHref,
    live: options.live,
  });
}
