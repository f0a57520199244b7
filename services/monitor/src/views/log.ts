import type { LogResult } from '../routes/log-fetch.js';
import { jobLink, table } from './components.js';
import { encodeSegment, html } from './html.js';
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
