import type { MemorySample } from '../memory/series.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';

type SizeField = 'pssKb' | 'rssKb' | 'vmemKb' | 'swapKb';

/** The plotted series: field, legend name, CSS class (colours in the page style). */
export const MEMORY_LINES: readonly (readonly [SizeField, string, string])[] = [
  ['pssKb', 'PSS', 'mem-pss'],
  ['rssKb', 'RSS', 'mem-rss'],
  ['vmemKb', 'VMEM', 'mem-vmem'],
  ['swapKb', 'swap', 'mem-swap'],
];

export interface PlotGeometry {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const GEOMETRY: PlotGeometry = { width: 760, height: 300, left: 64, right: 110, top: 14, bottom: 40 };

/** Most points per line; longer series keep the maximum of each group of samples. */
export const MAX_POINTS = 1000;

/** Ticks 0, step, 2 step, ... covering `max` with a 1-2-5 step, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let i = 0; i * step < max + step * 1e-9; i++) ticks.push(round(i * step));
  if ((ticks[ticks.length - 1] ?? 0) < max) ticks.push(round(ticks.length * step));
  return ticks;
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** At most `max` samples: each group of consecutive samples becomes its maximum (peaks stay). */
export function decimate(samples: readonly MemorySample[], max = MAX_POINTS): MemorySample[] {
  if (samples.length <= max) return [...samples];
  const size = Math.ceil(samples.length / max);
  const out: MemorySample[] = [];
  for (let i = 0; i < samples.length; i += size) {
    const group = samples.slice(i, i + size);
    const last = group[group.length - 1];
    if (!last) continue;
    const peak = { ...last };
    for (const [field] of MEMORY_LINES) peak[field] = Math.max(...group.map((s) => s[field]));
    out.push(peak);
  }
  return out;
}

const mb = (kb: number): number => kb / 1024;
const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));
const px = (x: number): string => x.toFixed(1);

/**
 * The memory time series as an inline SVG line plot (server-rendered, no script): PSS, RSS,
 * VMEM and swap in MB against seconds since the first sample, with the job's memory as a dashed
 * line when known. Each line is a `<path>` with the line's class; an empty series gives a note.
 */
export function memoryPlotSvg(
  samples: readonly MemorySample[],
  limitMb: number | null,
  geometry: PlotGeometry = GEOMETRY,
): SafeHtml {
  if (samples.length === 0) return html`<p class="muted">no memory samples to plot</p>`;
  const { width, height, left, right, top, bottom } = geometry;
  const points = decimate(samples);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const peakMb = Math.max(...MEMORY_LINES.flatMap(([f]) => points.map((s) => mb(s[f]))), limitMb ?? 0);
  const yTicks = niceTicks(peakMb > 0 ? peakMb * 1.05 : 1);
  const xTicks = niceTicks(Math.max(...points.map((s) => s.t), 1));
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const xMax = xTicks[xTicks.length - 1] ?? 1;
  const x = (t: number): number => left + (t / xMax) * plotW;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const bottomY = top + plotH;

  const lines = MEMORY_LINES.map(([field, name, cls], i) => {
    const d = points.map((s, j) => `${j === 0 ? 'M' : 'L'}${px(x(s.t))} ${px(y(mb(s[field])))}`).join(' ');
    const max = Math.max(...samples.map((s) => mb(s[field])));
    const ly = top + 8 + i * 18;
    return html`<g class="line ${cls}" data-series="${name}">
      <path d="${d}" fill="none" stroke-width="1.8"><title>${name}: max ${max.toFixed(1)} MB</title></path>
      ${points.length <= 20 ? points.map((s) => html`<circle cx="${px(x(s.t))}" cy="${px(y(mb(s[field])))}" r="2.2" />`) : null}
      <line x1="${width - right + 12}" x2="${width - right + 32}" y1="${ly}" y2="${ly}" stroke-width="2" />
      <text x="${width - right + 38}" y="${ly + 4}" class="legend">${name}</text>
    </g>`;
  });
  const limit =
    limitMb !== null && limitMb > 0
      ? html`<g class="mem-limit" data-limit-mb="${limitMb}">
          <line
            x1="${left}"
            x2="${left + plotW}"
            y1="${px(y(limitMb))}"
            y2="${px(y(limitMb))}"
            stroke-dasharray="6 4"
          />
          <text x="${left + plotW - 4}" y="${px(y(limitMb) - 4)}" text-anchor="end" class="legend">
            job memory ${fmt(limitMb)} MB
          </text>
        </g>`
      : null;
  return html`<svg
    class="memory"
    width="${width}"
    height="${height}"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="memory over time: PSS, RSS, VMEM and swap in MB"
  >
    ${yTicks.map(
      (v) =>
        html`<line class="grid" x1="${left}" x2="${left + plotW}" y1="${px(y(v))}" y2="${px(y(v))}" />
          <text class="axis" x="${left - 6}" y="${px(y(v) + 3)}" text-anchor="end">${fmt(v)}</text>`,
    )}
    ${xTicks.map(
      (t) =>
        html`<line class="tick" x1="${px(x(t))}" x2="${px(x(t))}" y1="${bottomY}" y2="${bottomY + 4}" />
          <text class="axis" x="${px(x(t))}" y="${bottomY + 15}" text-anchor="middle">${fmt(t)}</text>`,
    )}
    <line class="frame" x1="${left}" x2="${left}" y1="${top}" y2="${bottomY}" />
    <line class="frame" x1="${left}" x2="${left + plotW}" y1="${bottomY}" y2="${bottomY}" />
    <text
      class="axis title"
      x="14"
      y="${top + plotH / 2}"
      transform="rotate(-90 14 ${top + plotH / 2})"
      text-anchor="middle"
    >
      MB
    </text>
    <text class="axis title" x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">
      seconds since the first sample
    </text>
    ${limit} ${lines}
  </svg>`;
}
