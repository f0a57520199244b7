import type { ReportRow } from '@panda/proto';
import type { LabelEdge } from '../db/workflows.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';

export interface DagLayout {
  /** Column (longest path from a root) of every label. */
  depth: Map<string, number>;
  columns: string[][];
}

/** Layers the label graph by longest path from a root; labels in a cycle (impossible in a DAG) stay at 0. */
export function layoutDag(labels: readonly string[], edges: readonly LabelEdge[]): DagLayout {
  const depth = new Map<string, number>(labels.map((l) => [l, 0]));
  for (const e of edges) {
    if (!depth.has(e.parent)) depth.set(e.parent, 0);
    if (!depth.has(e.child)) depth.set(e.child, 0);
  }
  // Bellman-Ford style relaxation, bounded by the number of labels.
  for (let round = 0; round < depth.size; round++) {
    let changed = false;
    for (const e of edges) {
      const d = (depth.get(e.parent) ?? 0) + 1;
      if (d > (depth.get(e.child) ?? 0) && d < depth.size) {
        depth.set(e.child, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const columns: string[][] = [];
  for (const [label, d] of depth) (columns[d] ??= []).push(label);
  return { depth, columns: columns.map((c) => c ?? []) };
}

const BOX_W = 190;
const BOX_H = 58;
const GAP_X = 60;
const GAP_Y = 16;

/** The DAG of labels as inline SVG: one box per label with its succeeded/failed/running/expected counts. */
export function dagSvg(rows: readonly ReportRow[], edges: readonly LabelEdge[]): SafeHtml {
  const byLabel = new Map(rows.map((r) => [r.label, r]));
  const { columns } = layoutDag(
    rows.map((r) => r.label),
    edges,
  );
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, ci) =>
    col.forEach((label, ri) => pos.set(label, { x: 8 + ci * (BOX_W + GAP_X), y: 8 + ri * (BOX_H + GAP_Y) })),
  );
  const width = 16 + columns.length * (BOX_W + GAP_X) - GAP_X;
  const height = 16 + Math.max(1, ...columns.map((c) => c.length)) * (BOX_H + GAP_Y) - GAP_Y;
  const lines = edges.map((e) => {
    const a = pos.get(e.parent);
    const b = pos.get(e.child);
    if (!a || !b) return html``;
    return html`<line
      x1="${a.x + BOX_W}"
      y1="${a.y + BOX_H / 2}"
      x2="${b.x}"
      y2="${b.y + BOX_H / 2}"
      class="edge"
      marker-end="url(#arrow)"
    />`;
  });
  const boxes = [...pos].map(([label, p]) => {
    const r = byLabel.get(label);
    const cls =
      r && r.failed > 0
        ? 'node failed'
        : r && r.expected > 0 && r.succeeded === r.expected
          ? 'node done'
          : 'node';
    return html`<g class="${cls}" data-label="${label}">
      <rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="6" />
      <text x="${p.x + 8}" y="${p.y + 18}" class="label">${label}</text>
      <text x="${p.x + 8}" y="${p.y + 36}"
        >✔ ${r?.succeeded ?? 0} ✖ ${r?.failed ?? 0} ▶ ${r?.running ?? 0}</text
      >
      <text x="${p.x + 8}" y="${p.y + 51}" class="muted"
        >of ${r?.expected ?? 0}, pruned ${r?.pruned ?? 0}</text
      >
    </g>`;
  });
  return html`<svg
    class="dag"
    width="${width}"
    height="${height}"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="DAG of labels"
  >
    <defs>
      <marker
        id="arrow"
        viewBox="0 0 10 10"
        refX="10"
        refY="5"
        markerWidth="7"
        markerHeight="7"
        orient="auto-start-reverse"
      >
        <path d="M 0 0 L 10 5 L 0 10 z" />
      </marker>
    </defs>
    ${lines}${boxes}
  </svg>`;
}
