import { encodeSegment, html, raw } from './html.js';
import type { SafeHtml } from './html.js';

/** `path?a=1&b=x` from the non-empty values (for shareable links). */
export function hrefOf(
  path: string,
  query: Record<string, string | number | boolean | undefined | null> = {},
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    params.set(k, v === true ? '1' : String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface FilterField {
  name: string;
  label?: string;
  value: string | number | undefined;
  placeholder?: string;
  type?: 'text' | 'number' | 'checkbox';
}

/** A GET form: every filter is a query parameter, so the URL can be shared. */
export function filterForm(action: string, fields: readonly FilterField[]): SafeHtml {
  return html`<form class="filters" method="get" action="${action}">
    ${fields.map((f) =>
      f.type === 'checkbox'
        ? html`<label class="check"
            ><input type="checkbox" name="${f.name}" value="1" ${f.value ? raw('checked') : null} />${
              f.label ?? f.name
            }</label
          >`
        : html`<label
            >${f.label ?? f.name}<input
              name="${f.name}"
              ${f.type === 'number' ? raw('type="number" min="0"') : null}
              value="${f.value ?? ''}"
              placeholder="${f.placeholder ?? ''}"
          /></label>`,
    )}
    <button type="submit">Filter</button>
  </form>`;
}

export type Cell = SafeHtml | string | number | null | undefined;

/** A table; numeric cells are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], cls = ''): SafeHtml {
  return html`<table class="${cls}">
    <thead>
      <tr>
        ${headers.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            ${r.map((c) => (typeof c === 'number' ? html`<td class="num">${c}</td>` : html`<td>${c ?? ''}</td>`))}
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export const link = (href: string, text: string | number): SafeHtml => html`<a href="${href}">${text}</a>`;

export const jobLink = (pandaId: number): SafeHtml => link(`/jobs/${encodeSegment(pandaId)}`, pandaId);
export const taskLink = (taskId: number, text?: string): SafeHtml =>
  link(`/tasks/${encodeSegment(taskId)}`, text ?? taskId);
export const workflowLink = (workflowId: number): SafeHtml =>
  link(`/workflows/${encodeSegment(workflowId)}`, workflowId);
export const queueLink = (queue: string): SafeHtml => link(hrefOf('/queues', { queue }), queue);
export const workerLink = (workerId: string): SafeHtml =>
  workerId ? link(`/workers/${encodeSegment(workerId)}`, workerId) : html`-`;

/** "Next page" link keeping the current filters. */
export function pager(
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  next: string | number | null,
): SafeHtml {
  if (next === null) return html``;
  return html`<p><a class="next" href="${hrefOf(path, { ...query, before: next })}">next page →</a></p>`;
}

/** `{state: n}` as badges, each linking to `hrefFor(state)`. */
export function stateCounts(counts: Record<string, number>, hrefFor?: (state: string) => string): SafeHtml {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return html`<span class="muted">none</span>`;
  return html`${entries.map(
    ([state, n]) =>
      html`<span class="count"
        >${hrefFor ? link(hrefFor(state), state) : state}&nbsp;<b data-count="${state}">${n}</b></span
      > `,
  )}`;
}

export function fields(pairs: readonly (readonly [string, Cell])[]): SafeHtml {
  return html`<dl class="fields">
    ${pairs.map(
      ([k, v]) =>
        html`<dt>${k}</dt>
          <dd>${typeof v === 'number' ? String(v) : (v ?? '-')}</dd>`,
    )}
  </dl>`;
}
