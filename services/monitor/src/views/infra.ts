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
            ['worker', 'queue', 'state', 'submitter', 'batch id', 'submitted', 'ended', 'exit', 'diagnostic'],
            workers.map((w) => [
              workerLink(w.workerId),
              queueLink(w.queue),
              stateBadge(w.state),
              w.submitter,
              w.batchId,
              w.submittedAt ?? '',
              w.endedAt ?? '',
              w.exitCode ?? '',
              html`<span class="wrap">${w.diag}</span>`,
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
