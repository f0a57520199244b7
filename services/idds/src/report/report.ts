import type { ReportRow } from '@panda/proto';

export interface NodeStateCount {
  label: string;
  state: 'unreleased' | 'staged' | 'released' | 'finished' | 'failed' | 'pruned';
  count: number;
}

export interface JobStateCountByLabel {
  label: string;
  state: string;
  count: number;
}

/**
 * Staged nodes whose gate finished are released (their jobs were activated), though idds
 * leaves them `staged` until they settle: move those counts from `staged` to `released`.
 */
export function withOpenedGates(
  nodes: NodeStateCount[],
  opened: { label: string; count: number }[],
): NodeStateCount[] {
  const openedOf = new Map(opened.map((o) => [o.label, o.count]));
  return nodes.flatMap((n) => {
    const o = n.state === 'staged' ? Math.min(openedOf.get(n.label) ?? 0, n.count) : 0;
    if (o === 0) return [n];
    return [
      { ...n, count: n.count - o },
      { label: n.label, state: 'released' as const, count: o },
    ];
  });
}

const empty = (label: string): ReportRow => ({
  label,
  unknown: 0,
  misfit: 0,
  unready: 0,
  ready: 0,
  pending: 0,
  running: 0,
  deleted: 0,
  held: 0,
  succeeded: 0,
  failed: 0,
  pruned: 0,
  expected: 0,
});

/**
 * The `bps report` table: one row per label (chunks merged), from DAG node states and the
 * states of the current jobs of released nodes.
 * UNREADY = waiting for parents (staged ones too: their job exists but waits); SUCCEEDED/FAILED/PRUNED = node outcome; of the released nodes
 * still in progress: PENDING = job sent or starting, RUNNING = running/holding/transferring,
 * HELD = throttled (task paused), READY = the rest (activated, or between attempts).
 * EXPECTED = every node of the label.
 */
export function buildReport(
  labels: string[],
  nodes: NodeStateCount[],
  jobs: JobStateCountByLabel[],
): { rows: ReportRow[]; total: ReportRow } {
  const rows = new Map(labels.map((l) => [l, empty(l)]));
  const inProgress = new Map<string, number>();
  for (const n of nodes) {
    const row = rows.get(n.label) ?? empty(n.label);
    rows.set(n.label, row);
    row.expected += n.count;
    if (n.state === 'unreleased' || n.state === 'staged') row.unready += n.count;
    else if (n.state === 'finished') row.succeeded += n.count;
    else if (n.state === 'failed') row.failed += n.count;
    else if (n.state === 'pruned') row.pruned += n.count;
    else inProgress.set(n.label, (inProgress.get(n.label) ?? 0) + n.count);
  }
  for (const j of jobs) {
    const row = rows.get(j.label);
    if (!row) continue;
    if (j.state === 'sent' || j.state === 'starting') row.pending += j.count;
    else if (j.state === 'running' || j.state === 'holding' || j.state === 'transferring')
      row.running += j.count;
    else if (j.state === 'throttled') row.held += j.count;
  }
  for (const row of rows.values()) {
    const released = inProgress.get(row.label) ?? 0;
    // Job counts and node counts are read at slightly different moments; never show < 0.
    const active = Math.min(released, row.pending + row.running + row.held);
    row.ready = released - active;
  }
  const total = empty('TOTAL');
  for (const row of rows.values()) {
    for (const k of Object.keys(total) as (keyof ReportRow)[]) {
      if (k !== 'label') (total[k] as number) += row[k] as number;
    }
  }
  return { rows: [...rows.values()], total };
}
