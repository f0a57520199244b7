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
  form.filters label.check { flex-direction: row; gap: 4px; align-items: center; }
  .count { display: inline-block; margin-right: 10px; }
  .state-running, .state-starting, .state-sent { background: #dcebfb; color: #0d4a86; }
  .state-activated, .state-defined, .state-pending, .state-submitted, .state-idle { background: #eef2f6; color: #333; }
  .state-closed, .state-missed { background: #e6e6e6; color: #444; }
  .state-done, .state-online { background: #d9f2de; color: #17612a; }
  .state-offline, .state-paused, .state-brokeroff { background: #fbdcdc; color: #8f1d1d; }
  figure.hist { display: inline-block; margin: 0 24px 12px 0; }
  figure.hist figcaption { font-size: 12px; color: var(--muted); }
  svg .col, svg .hbar { fill: #4a7fb5; } svg .axis { font-size: 10px; fill: var(--muted); }
  svg.dag .node rect { fill: #f4f7fa; stroke: #8aa1b8; } svg.dag .node.done rect { fill: #e3f4e7; stroke: #2e9e4f; }
  svg.dag .node.failed rect { fill: #fdecec; stroke: #d64545; } svg.dag text { font-size: 12px; }
  svg.dag text.label { font-weight: 700; } svg.dag .edge { stroke: #8aa1b8; stroke-width: 1.5; }
  svg.dag marker path { fill: #8aa1b8; }
  pre.diag { white-space: pre-wrap; max-width: 80em; margin: 0; }
  td.wrap { white-space: normal; max-width: 40em; }
  code.log { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: normal;
    word-break: break-all; user-select: all; }
  td code.log { display: inline-block; max-width: 36em; }
  #live { margin-left: 8px; } #live.off { color: #8f1d1d; }
  figure.plot { margin: 8px 0 12px; } figure.plot figcaption { font-size: 12px; color: var(--muted); max-width: 760px; }
  svg.memory .grid { stroke: #e8ecf0; } svg.memory .frame, svg.memory .tick { stroke: #8a96a3; }
  svg.memory text { stroke: none; } svg.memory .legend { font-size: 11px; } svg.memory .title { font-size: 11px; }
  svg.memory .line path, svg.memory .line line { fill: none; }
  svg.memory .mem-pss { stroke: #1f6fb5; fill: #1f6fb5; } svg.memory .mem-rss { stroke: #2e9e4f; fill: #2e9e4f; }
  svg.memory .mem-vmem { stroke: #b07a16; fill: #b07a16; } svg.memory .mem-swap { stroke: #8e44ad; fill: #8e44ad; }
  svg.memory .mem-limit line { stroke: #d64545; stroke-width: 1.5; } svg.memory .mem-limit text { fill: #8f1d1d; }
  #log-lines { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; max-width: 120em;
    border: 1px solid var(--line); background: #fbfcfd; padding: 6px 8px; min-height: 4em; }
  #log-lines .line { padding: 0 2px; } #log-lines .t, #log-lines .src { color: var(--muted); }
  #log-lines .sev { display: inline-block; min-width: 5.5em; font-weight: 600; }
  #log-lines .sev-warning .sev, #log-lines .sev-warn .sev { color: #7a5300; }
  #log-lines .sev-error, #log-lines .sev-critical, #log-lines .sev-fatal { background: #fdf0f0; }
  #log-lines .sev-error .sev, #log-lines .sev-critical .sev, #log-lines .sev-fatal .sev { color: #8f1d1d; }
  #log-lines .sev-debug .sev, #log-lines .sev-trace .sev { color: var(--muted); }
  #log-lines .note { color: var(--muted); font-style: italic; }
  #tail-status.following { color: #17612a; } #tail-status.ended { color: var(--muted); } #tail-status.off { color: #8f1d1d; }
`);

/** Client side of live updates: on a matching server-sent event, re-fetch this page and swap <main>. */
const LIVE_SCRIPT = raw(`(() => {
  const keys = (document.body.dataset.live || '').split(' ').filter(Boolean);
  const badge = document.getElementById('live');
  let timer = null, busy = false, last = 0;
  const refresh = async () => {
    timer = null;
    const a = document.activeElement;
    if (busy || (a && (a.tagName === 'INPUT' || a.tagName === 'SELECT'))) return;
    busy = true; last = Date.now();
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const next = doc.querySelector('main'), cur = document.querySelector('main');
      if (next && cur) { cur.replaceWith(next); document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1); }
    } finally { busy = false; }
  };
  const es = new EventSource('/events?keys=' + encodeURIComponent(keys.join(' ')));
  es.onopen = () => { if (badge) { badge.textContent = 'live'; badge.className = 'on'; } };
  es.onerror = () => { if (badge) { badge.textContent = 'reconnecting…'; badge.className = 'off'; } };
  es.onmessage = () => { if (!timer) timer = setTimeout(refresh, Math.max(500, 2000 - (Date.now() - last))); };
})();`);

const NAV = [
  ['/workflows', 'Workflows'],
  ['/jobs', 'Jobs'],
  ['/errors', 'Errors'],
  ['/queues', 'Queues'],
  ['/workers', 'Workers'],
] as const;

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Reload the page every N seconds (used when live updates are not available). */
  refreshSeconds?: number;
  /** Live-update keys (e.g. `workflow:5`, `jobs`): the page refreshes its content on matching events. */
  live?: readonly string[] | undefined;
  /** Link to the same data as JSON. */
  jsonHref?: string;
  /** A script of the page's own (a constant of ours), run after the body. */
  script?: SafeHtml;
}

/** The HTML document around every page. */
export function renderPage(options: PageOptions): string {
  const { title, body, jsonHref, live, script } = options;
  const refreshSeconds = live ? undefined : options.refreshSeconds;
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
      <body${live ? html` data-live="${live.join(' ')}"` : null}>
        <header>
          <a class="brand" href="/workflows">PanDA monitor</a>${NAV.map(([href, text]) => html`<a href="${href}">${text}</a>`)}
        </header>
        <main>${body}</main>
        <footer>
          ${refreshSeconds ? `refreshes every ${refreshSeconds} s` : null}${
            jsonHref ? html` · <a href="${jsonHref}">JSON</a>` : null
          }${live ? html`<span id="live">connecting…</span>` : null}
        </footer>
        ${
          live
            ? html`<script>
                ${LIVE_SCRIPT};
              </script>`
            : null
        }
        ${
          script
            ? html`<script>
                ${script};
              </script>`
            : null
        }
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
