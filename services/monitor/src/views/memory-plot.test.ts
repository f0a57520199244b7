import { describe, expect, it } from 'vitest';
import type { MemorySample } from '../memory/series.js';
import { decimate, memoryPlotSvg, niceTicks } from './memory-plot.js';
import type { PlotGeometry } from './memory-plot.js';

const sample = (t: number, pssMb: number, over: Partial<MemorySample> = {}): MemorySample => ({
  time: 1000 + t,
  t,
  pssKb: pssMb * 1024,
  rssKb: pssMb * 1024,
  vmemKb: 2 * pssMb * 1024,
  swapKb: 0,
  utimeS: 0,
  stimeS: 0,
  processes: 1,
  threads: 1,
  ...over,
});

/** Markup with whitespace runs collapsed (the templates are prettier-formatted). */
const flat = (s: string): string => s.replace(/\s+/g, ' ');

// A plot area of 100 x 100 px from (10, 10): x = 10 + t/xMax*100, y = 110 - v/yMax*100.
const G: PlotGeometry = { width: 200, height: 140, left: 10, right: 90, top: 10, bottom: 30 };

/** The points of the path of one line, as [x, y]. */
function pathOf(svg: string, series: string): [number, number][] {
  const group = new RegExp(`data-series="${series}">\\s*<path d="([^"]*)"`).exec(svg);
  if (!group?.[1]) throw new Error(`no path for ${series}`);
  return group[1]
    .split(/[ML]/)
    .filter(Boolean)
    .map((p) => p.trim().split(' ').map(Number) as [number, number]);
}

describe('memory plot (inline SVG)', () => {
  it('scales points to seconds and MB: 0..xMax left to right, 0..yMax bottom to top', () => {
    // PSS 0 -> 40 MB over 0 -> 10 s; VMEM peaks at 80 MB so the MB axis ends at 100 (ticks of 20).
    const svg = flat(memoryPlotSvg([sample(0, 0), sample(5, 20), sample(10, 40)], null, G).value);
    expect(pathOf(svg, 'PSS')).toEqual([
      [10, 110],
      [60, 90],
      [110, 70],
    ]);
    expect(pathOf(svg, 'VMEM')).toEqual([
      [10, 110],
      [60, 70],
      [110, 30],
    ]);
    // axes: MB ticks 0..100 by 20, seconds 0..10 by 2, with their titles
    for (const label of ['0', '20', '100', '10', 'MB']) expect(svg).toMatch(new RegExp(`> ?${label} ?<`));
    expect(svg).toMatch(/seconds since the first sample/);
    expect(svg.match(/<path /g)).toHaveLength(4); // PSS, RSS, VMEM, swap
    expect(svg).not.toContain('mem-limit');
  });

  it("draws the job's memory as a dashed line at its height, and makes room for it", () => {
    const svg = flat(memoryPlotSvg([sample(0, 10), sample(60, 30)], 200, G).value);
    const limit =
      /class="mem-limit" data-limit-mb="200"> ?<line x1="10" x2="110" y1="([\d.]+)" y2="([\d.]+)"/.exec(svg);
    expect(limit).not.toBeNull();
    // 200 MB * 1.05 = 210: the axis ends at 250 (ticks of 50), so 200 MB is at 110 - 80 = 30
    expect(Number(limit?.[1])).toBe(30);
    expect(svg).toContain('job memory 200 MB');
    expect(svg).toContain('stroke-dasharray');
  });

  it('an empty series gives a note, not an SVG; one sample still plots a point', () => {
    expect(memoryPlotSvg([], 100).value).toMatch(/no memory samples/);
    expect(memoryPlotSvg([], 100).value).not.toContain('<svg');
    const one = memoryPlotSvg([sample(0, 5)], null, G).value;
    expect(pathOf(one, 'PSS')).toHaveLength(1);
    expect(one).toContain('<circle');
    expect(one).not.toContain('NaN');
  });

  it('keeps at most 1000 points per line, and the peaks', () => {
    const many = Array.from({ length: 5000 }, (_, i) => sample(i, i === 2345 ? 900 : 10));
    const kept = decimate(many);
    expect(kept.length).toBeLessThanOrEqual(1000);
    expect(Math.max(...kept.map((s) => s.pssKb))).toBe(900 * 1024);
    const svg = memoryPlotSvg(many, null, G).value;
    expect(pathOf(svg, 'PSS').length).toBeLessThanOrEqual(1000);
    expect(svg).not.toContain('<circle');
  });

  it('nice ticks cover the maximum with 1-2-5 steps', () => {
    expect(niceTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(1050)).toEqual([0, 250, 500, 750, 1000, 1250]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});
