import type { Workflow } from '@panda/proto';
import { countsOf } from '../idds/workflows.js';
import { encodeSegment, html } from './html.js';
import { formatTime, renderPage, stateBadge } from './layout.js';

export interface WorkflowFilters {
  user?: string | undefined;
  state?: string | undefined;
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
  workflows: readonly Workflow[],
  filters: WorkflowFilters,
  jsonHref: string,
): string {
  const rows = workflows.map((w) => {
    const counts = countsOf(w);
    return html`<tr>
      <td class="num"><a href="/workflows/${encodeSegment(w.workflowId)}">${w.workflowId}</a></td>
      <td>${w.name}</td>
      <td>${w.user}</td>
      <td>${w.campaign}</td>
      <td>${stateBadge(w.state)}</td>
      ${COUNT_COLUMNS.map((key) => html`<td class="num">${counts[key]}</td>`)}
      <td>${formatTime(w.createdAt)}</td>
    </tr> `;
  });
  const body = html`<h1>Workflows</h1>
    <form class="filters" method="get" action="/workflows">
      <label>user<input name="user" value="${filters.user ?? ''}" /></label>
      <label
        >state<input name="state" value="${filters.state ?? ''}" placeholder="Transforming, Finished, …"
      /></label>
      <label>limit<input name="limit" type="number" min="0" value="${filters.limit ?? ''}" /></label>
      <button type="submit">Filter</button>
    </form>
    ${
      workflows.length === 0
        ? html`<p class="muted">
            No workflows${filters.user || filters.state ? ' match these filters' : ''}.
          </p>`
        : html`<table>
              <thead>
                <tr>
                  <th class="num">id</th>
                  <th>name</th>
                  <th>user</th>
                  <th>campaign</th>
                  <th>state</th>
                  ${COUNT_COLUMNS.map((key) => html`<th class="num">${key}</th>`)}
                  <th>created</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
            <p class="muted">${workflows.length} workflow${workflows.length === 1 ? '' : 's'}</p>`
    }`;
  return renderPage({ title: 'Workflows', body, refreshSeconds: REFRESH_SECONDS, jsonHref });
}
