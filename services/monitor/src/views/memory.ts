import type { MemoryReport } from '../memory/report.js';
import { jobLink, link } from './components.js';
import { encodeSegment, html } from './html.js';
import type { SafeHtml } from './html.js';
import { renderPage } from './layout.js';
import { memoryPlotSvg } from './memory-plot.js';

const peak = (r: MemoryReport, field: 'pssKb' | 'rssKb'): string =>
  (Math.max(...r.samples.map((s) => s[field])) / 1024).toFixed(1);

/** The plot with its caption, or why there is none (`data-memory` carries the status). */
export function memorySection(pandaId: number, r: MemoryReport): SafeHtml {
  const more = link(`/jobs/${encodeSegment(pandaId)}/memory?json`, 'series as JSON');
  if (r.status !== 'ok') {
    return html`<p class="muted" id="memory" data-memory="${r.status}">Memory time series: ${r.message}.</p>`;
  }
  const last = r.samples[r.samples.length - 1];
  return html`<figure class="plot" id="memory" data-memory="ok">
    ${memoryPlotSvg(r.samples, r.limitMb)}
    <figcaption>
      Memory of the payload's process tree over ${last?.t ?? 0} s (${r.message}), max PSS ${peak(r, 'pssKb')}
      MB, max RSS ${peak(r, 'rssKb')} MB${r.limitMb ? `, job memory ${r.limitMb} MB` : ''}; from the pilot's
      memory_monitor_output.txt · ${more}
    </figcaption>
  </figure>`;
}

/** `/jobs/:id/memory`: the plot alone. */
export function renderMemoryPage(
  pandaId: number,
  state: string,
  r: MemoryReport,
  jsonHref: string,
  live?: string[],
): string {
  const body = html`<h1>Memory of job ${jobLink(pandaId)}</h1>
    <p class="muted">state ${state}</p>
    ${memorySection(pandaId, r)}`;
  return renderPage({ title: `Memory of job ${pandaId}`, body, jsonHref, live, refreshSeconds: 30 });
}
