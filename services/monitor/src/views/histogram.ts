import type { Histogram } from '../db/tasks.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';

const W = 420;
const H = 120;

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));

/** A bar chart as inline SVG (no script), with a title per bar for exact values. */
export function histogramSvg(h: Histogram): SafeHtml {
  if (h.count === 0) return html`<p class="muted">no ${h.title} measured yet</p>`;
  const peak = Math.max(...h.buckets.map((b) => b.count), 1);
  const bw = W / h.buckets.length;
  return html`<figure class="hist">
    <figcaption>${h.title} (${h.unit}), ${h.count} jobs, ${fmt(h.min)} – ${fmt(h.max)}</figcaption>
    <svg
      width="${W}"
      height="${H + 16}"
      viewBox="0 0 ${W} ${H + 16}"
      role="img"
      aria-label="${h.title} histogram"
    >
      ${h.buckets.map((b, i) => {
        const bh = Math.round((b.count / peak) * H);
        return html`<rect
          x="${(i * bw + 1).toFixed(1)}"
          y="${H - bh}"
          width="${Math.max(1, bw - 2).toFixed(1)}"
          height="${bh}"
          class="col"
          ><title>${fmt(b.from)}–${fmt(b.to)} ${h.unit}: ${b.count}</title></rect
        >`;
      })}
      <text x="0" y="${H + 13}" class="axis">${fmt(h.min)}</text>
      <text x="${W}" y="${H + 13}" text-anchor="end" class="axis">${fmt(h.max)} ${h.unit}</text>
    </svg>
  </figure>`;
}
