import { html, raw } from './html.js';
import type { SafeHtml } from './html.js';

const STYLE = raw(`
  :root { --fg: #1d2733; --muted: #5b6775; --line: #d8dee6; --head: #eef2f6; --link: #0b5cad; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; }
  header { background: #17324d; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: baseline; }
  header a { color: #fff; text-decoration: none; }
  header .brand { font-weight: 700; font-size: 16px; }
  main { padding: 16px 24px; }
  h1 { font-size: 20px; margin: 4px 0 12px; }
  h2 { font-size: 16px; margin: 20px 0 8px; }
  a { color: var(--link); }
  table { border-collapse: collapse; margin: 8px 0; }
  th, td { border: 1px solid var(--line); padding: 4px 8px; white-space: nowrap; }
  th { background: var(--head); text-align: left; font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.total td { font-weight: 700; background: #f7f9fb; }
  tbody tr:hover td { background: #f3f7fc; }
  .state { display: inline-block; padding: 0 6px; border-radius: 3px; font-weight: 600; }
  .state-finished { background: #d9f2de; color: #17612a; }
  .state-subfinished { background: #fff0cc; color: #7a5300; }
  .state-failed { background: #fbdcdc; color: #8f1d1d; }
  .state-cancelled { background: #e6e6e6; color: #444; }
  .state-transforming { background: #dcebfb; color: #0d4a86; }
  dl.fields { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0 0 8px; }
  dl.fields dt { color: var(--muted); }
  dl.fields dd { margin: 0; }
  form.filters { display: flex; gap: 12px; align-items: end; margin-bottom: 8px; }
  form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
  .bar { display: flex; width: 320px; height: 10px; background: #e8ecf0; border-radius: 5px; overflow: hidden; }
  .bar span { display: block; height: 100%; }
  .bar .finished { background: #2e9e4f; } .bar .failed { background: #d64545; } .bar .pruned { background: #b59b5a; }
  .muted { color: var(--muted); }
  .error { border: 1px solid #e3a5a5; background: #fdf0f0; padding: 12px 16px; border-radius: 4px; max-width: 60em; }
  footer { padding: 8px 24px; color: var(--muted); font-size: 12px; }
`);

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Reload the page every N seconds (live updates come later). */
  refreshSeconds?: number;
  /** Link to the same data as JSON. */
  jsonHref?: string;
}

/** The HTML document around every page. */
export function renderPage(options: PageOptions): string {
  const { title, body, refreshSeconds, jsonHref } = options;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${refreshSeconds ? html`<meta http-equiv="refresh" content="${refreshSeconds}" />` : null}
        <title>${title} - PanDA monitor</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <header>
          <a class="brand" href="/workflows">PanDA monitor</a><a href="/workflows">Workflows</a>
        </header>
        <main>${body}</main>
        <footer>
          ${refreshSeconds ? `refreshes every ${refreshSeconds} s` : null}${
            jsonHref ? html` · <a href="${jsonHref}">JSON</a>` : null
          }
        </footer>
      </body>
    </html> `.value;
}

/** `<span class="state state-finished">Finished</span>`; the class keeps only letters. */
export function stateBadge(state: string): SafeHtml {
  const cls = state.toLowerCase().replace(/[^a-z]/g, '');
  return html`<span class="state state-${cls}">${state || '-'}</span>`;
}

/** `2026-01-02 03:04:05` (UTC) or `-`. */
export function formatTime(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return '-';
  return date.toISOString().slice(0, 19).replace('T', ' ');
}
