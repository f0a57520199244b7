import type { Queue } from '@panda/proto';
import type { CountsByQueue, WorkerJson } from '../db/infra.js';
import type { JobJson } from '../db/jobs.js';
import {
  fields,
  filterForm,
  hrefOf,
  jobLink,
  pager,
  queueLink,
  stateCounts,
  table,
  workerLink,
} from './components.js';
import { html } from './html.js';
import type { SafeHtml } from './html.js';
import { renderPage, stateBadge } from './layout.js';

export interface QueueRowJson {
  name: string;
  site: string;
  status: string;
  corecount: number;
  minrssMb: number;
  maxrssMb: number;
  maxtimeS: number;
  submitter: string;
  maxWorkers: number;
  jobs: Record<string, number>;
  workers: Record<string, number>;
}

export function queueRows(
  queues: readonly Queue[],
  jobs: CountsByQueue,
  workers: CountsByQueue,
): QueueRowJson[] {
  const names = new Set([...queues.map((q) => q.name), ...Object.keys(jobs), ...Object.keys(workers)]);
  const byName = new Map(queues.map((q) => [q.name, q]));
  return [...names].sort().map((name) => {
    const q = byName.get(name);
    return {
      name,
      site: q?.site ?? '',
      status: q?.status ?? 'unknown',
      corecount: q?.corecount ?? 0,
      minrssMb: q?.minrssMb ?? 0,
      maxrssMb: q?.maxrssMb ?? 0,
      maxtimeS: q?.maxtimeS ?? 0,
      submitter: q?.harvester?.submitter ?? '',
      maxWorkers: q?.harvester?.maxWorkers ?? 0,
      jobs: jobs[name] ?? {},
      workers: workers[name] ?? {},
    };
  });
}

export function renderQueues(
  rows: readonly QueueRowJson[],
  selected: string | undefined,
  jsonHref: string,
  live?: string[],
): string {
  const body = html`<h1>Queues</h1>
    ${filterForm('/queues', [{ name: 'queue', value: selected }])}
    ${table(
      [
        'queue',
        'site',
        'status',
        'cores',
        'memory MB',
        'max time s',
        'submitter',
        'max workers',
        'active jobs',
        'workers',
      ],
      rows.map((q) => [
        queueLink(q.name),
        q.site,
        stateBadge(q.status),
        q.corecount,
        `${q.minrssMb}–${q.maxrssMb}`,
        q.maxtimeS,
        q.submitter,
        q.maxWorkers,
        stateCounts(q.jobs, (state) => hrefOf('/jobs', { queue: q.name, state })),
        stateCounts(q.workers, (state) => hrefOf('/workers', { queue: q.name, state })),
      ]),
      'queues',
    )}`;
  return renderPage({ title: 'Queues', body, jsonHref, live, refreshSeconds: 10 });
}

/** A walltime in seconds as Slurm writes it (`[D-]HH:MM:SS`); `none` for 0 (no limit). */
export function formatWalltime(seconds: number): string {
  if (!(seconds > 0)) return 'none';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const hms = [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
  return d ? `${d}-${hms}` : hms;
}

/**
 * A worker's log URL as text to copy, never a link: a `file://` path is on harvester's or the
 * batch nodes' file system (a browser will not open it from a web page), a Kubernetes API path
 * needs the cluster's credentials.
 */
export function logText(url: string): SafeHtml {
  return url ? html`<code class="log">${url}</code>` : html`<span class="muted">-</span>`;
}

/** How an operator reads a worker's log from its URL; undefined when there is nothing to add. */
export function logHint(url: string): string | undefined {
  if (url.startsWith('file:')) return "a file on harvester's host or the batch nodes' shared file system";
  const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/?]+)\/log$/.exec(url);
  if (pod) return `kubectl -n ${decodeURIComponent(pod[1]!)} logs ${decodeURIComponent(pod[2]!)}`;
  const byLabel = /^\/api\/v1\/namespaces\/([^/]+)\/pods\?labelSelector=([^&]+)$/.exec(url);
  if (byLabel)
    return `kubectl -n ${decodeURIComponent(byLabel[1]!)} logs -l ${decodeURIComponent(byLabel[2]!)} (pod not seen yet)`;
  return undefined;
}

export function renderWorkers(
  workers: readonly WorkerJson[],
  q: { queue?: string | undefined; state?: string | undefined; limit: number },
  next: string | null,
  jsonHref: string,
  live?: string[],
): string {
  const body = html`<h1>Workers</h1>
    ${filterForm('/workers', [
      { name: 'queue', value: q.queue },
      { name: 'state', value: q.state, placeholder: 'running' },
      { name: 'limit', value: q.limit, type: 'number' },
    ])}
    ${
      workers.length === 0
        ? html`<p class="muted">No workers match these filters.</p>`
        : table(
            [
              'worker',
              'queue',
              'state',
              'submitter',
              'batch id',
              'walltime',
              'submitted',
              'ended',
              'exit',
              'diagnostic',
              'log',
            ],
            workers.map((w) => [
              workerLink(w.workerId),
              queueLink(w.queue),
              stateBadge(w.state),
              w.submitter,
              w.batchId,
              formatWalltime(w.walltimeS),
              w.submittedAt ?? '',
              w.endedAt ?? '',
              w.exitCode ?? '',
              html`<span class="wrap">${w.diag}</span>`,
              logText(w.logUrl),
            ]),
            'workers',
          )
    }
    ${pager('/workers', q, next)}`;
  return renderPage({ title: 'Workers', body, jsonHref, live, refreshSeconds: 10 });
}

export function renderWorker(
  w: WorkerJson,
  jobs: readonly JobJson[],
  jsonHref: string,
  live?: string[],
): string {
  const body = html`<h1>Worker ${w.workerId}</h1>
    ${fields([
      ['state', stateBadge(w.state)],
      ['queue', queueLink(w.queue)],
      ['submitter', w.submitter],
      ['batch id', w.batchId || '-'],
      ['cores / memory', `${w.cores} core(s), ${w.memoryMb} MB`],
      ['walltime', w.walltimeS > 0 ? `${formatWalltime(w.walltimeS)} (${w.walltimeS} s)` : 'none'],
      ['log', logField(w.logUrl)],
      ['submitted', w.submittedAt ?? '-'],
      ['started', w.startedAt ?? '-'],
      ['ended', w.endedAt ?? '-'],
      ['exit code', w.exitCode ?? '-'],
      ['native status', w.nativeStatus || '-'],
      ['diagnostic', w.diag || '-'],
    ])}
    <h2>Jobs run by this worker</h2>
    ${table(
      ['PandaID', 'label', 'name', 'state', 'attempt', 'error'],
      jobs.map((j) => [
        jobLink(j.pandaId),
        j.label,
        j.name,
        stateBadge(j.state),
        j.attemptNr,
        j.errorCode || '',
      ]),
      'jobs',
    )}`;
  return renderPage({ title: `Worker ${w.workerId}`, body, jsonHref, live, refreshSeconds: 10 });
}

function logField(url: string): SafeHtml {
  const hint = logHint(url);
  return hint ? html`${logText(url)} <span class="muted">${hint}</span>` : logText(url);
}
