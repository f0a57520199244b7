import type { LogResult } from '../routes/log-fetch.js';
import { jobLink, link, table } from './components.js';
import { encodeSegment, html, raw } from './html.js';
import { renderPage } from './layout.js';

export function renderLogPage(pandaId: number, archive: boolean, log: LogResult): string {
  const content = !log.available
    ? html`<div class="error"><p>${log.message}</p></div>`
    : archive
      ? table(
          ['file', 'bytes', 'modified'],
          log.files.map((f) => [
            html`<a href="/jobs/${encodeSegment(pandaId)}/log/archive/${encodeSegment(f.name)}"
              >${f.name}</a
            >`,
            f.size,
            f.modified,
          ]),
          'archive',
        )
      : html`<pre class="diag log">${log.text}</pre>`;
  const body = html`<h1>${archive ? 'Stored log archive' : 'Log'} of job ${jobLink(pandaId)}</h1>
    ${content}`;
  return renderPage({ title: `Log of job ${pandaId}`, body, ...(archive ? {} : { refreshSeconds: 5 }) });
}

/**
 * Client side of the live tail: reads `/jobs/:id/log/stream` (server-sent events) and appends
 * each record as a line (time, severity, source, message) built with textContent, keeps the
 * view at the bottom when it was there, and stops at `event: end`.
 */
const TAIL_SCRIPT = raw(`(() => {
  const box = document.getElementById('log-lines'), status = document.getElementById('tail-status');
  const MAX_LINES = 10000;
  let count = 0;
  const say = (text, cls) => { status.textContent = text; status.className = cls; };
  const note = (text, id) => {
    const d = document.createElement('div'); d.className = 'note'; d.textContent = text;
    if (id) d.id = id;
    box.append(d);
  };
  const line = (r) => {
    const d = document.createElement('div');
    const sev = String(r.severity || 'INFO').toUpperCase();
    d.className = 'line sev-' + sev.toLowerCase().replace(/[^a-z]/g, '');
    const span = (cls, text) => {
      const s = document.createElement('span'); s.className = cls; s.textContent = text; d.append(s, ' ');
    };
    span('t', r.time ? r.time.slice(11, 23) : '');
    span('sev', sev);
    span('src', r.logger ? r.source + ' ' + r.logger : r.source);
    d.append(String(r.message));
    return d;
  };
  const es = new EventSource(box.dataset.stream);
  es.onmessage = (e) => {
    const { records, skipped } = JSON.parse(e.data);
    const atEnd = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    document.getElementById('log-empty')?.remove();
    if (skipped) note('\u2026 ' + skipped + ' earlier records not shown here (see the stored log archive)');
    const lines = document.createDocumentFragment();
    for (const r of records) lines.append(line(r));
    box.append(lines);
    count += records.length;
    while (box.childElementCount > MAX_LINES && box.firstElementChild) box.firstElementChild.remove();
    box.dataset.lines = String(count);
    if (atEnd) window.scrollTo(0, document.body.scrollHeight);
  };
  es.addEventListener('ready', () => {
    say('following: new lines appear as the pilot sends them', 'following');
    if (count === 0) note('no log records yet', 'log-empty');
  });
  es.addEventListener('end', (e) => {
    es.close();
    say('log complete: ' + JSON.parse(e.data).reason, 'ended');
    document.body.dataset.tail = 'ended';
  });
  es.onerror = () => {
    say(es.readyState === EventSource.CLOSED ? 'the live log is unavailable' : 'reconnecting\u2026', 'off');
  };
})()`);

/** The live tail page: lines are streamed in by the script, from the last 200 records on. */
export function renderLogTailPage(pandaId: number): string {
  const id = encodeSegment(pandaId);
  const body = html`<h1>Log of job ${jobLink(pandaId)}</h1>
    <p>
      <span id="tail-status">connecting…</span> · ${link(`/jobs/${id}/log?archive=1`, 'stored log archive')} ·
      ${link(`/jobs/${id}/log?json`, 'as JSON')}
    </p>
    <div id="log-lines" data-stream="/jobs/${id}/log/stream" data-lines="0"></div>`;
  return renderPage({ title: `Log of job ${pandaId}`, body, script: TAIL_SCRIPT });
}
