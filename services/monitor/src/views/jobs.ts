import type { ErrorCodeInfo } from '@panda/proto';
import type { JobJson } from '../db/jobs.js';
import type { MemoryReport } from '../memory/report.js';
import { describe } from '../catalogue/catalogue.js';
import type { FilterField } from './components.js';
import {
  fields,
  filterForm,
  jobLink,
  link,
  pager,
  queueLink,
  table,
  taskLink,
  workerLink,
  workflowLink,
} from './components.js';
import { encodeSegment, html } from './html.js';
import type { SafeHtml } from './html.js';
import { renderPage, stateBadge } from './layout.js';
import { memorySection } from './memory.js';

export interface JobListQuery {
  workflowId?: number | undefined;
  taskId?: number | undefined;
  state?: string | undefined;
  queue?: string | undefined;
  errorCode?: number | undefined;
  attempt?: number | undefined;
  workerId?: string | undefined;
  drop: boolean;
  limit: number;
}

const secs = (j: JobJson): string =>
  j.startTime && j.endTime ? ((Date.parse(j.endTime) - Date.parse(j.startTime)) / 1000).toFixed(1) : '';

const mb = (kb: number | undefined): string => (kb ? (kb / 1024).toFixed(1) : '');

export function renderJobList(
  jobs: readonly JobJson[],
  q: JobListQuery,
  next: number | null,
  jsonHref: string,
  live?: string[],
): string {
  const form: FilterField[] = [
    { name: 'workflowId', label: 'workflow', value: q.workflowId, type: 'number' },
    { name: 'taskId', label: 'task', value: q.taskId, type: 'number' },
    { name: 'state', value: q.state, placeholder: 'failed,running' },
    { name: 'queue', value: q.queue },
    { name: 'errorCode', label: 'error code', value: q.errorCode, type: 'number' },
    { name: 'attempt', value: q.attempt, type: 'number' },
    { name: 'workerId', label: 'worker', value: q.workerId },
    { name: 'limit', value: q.limit, type: 'number' },
    { name: 'drop', label: 'hide earlier attempts', value: q.drop ? 1 : undefined, type: 'checkbox' },
  ];
  const rows = jobs.map((j) => [
    jobLink(j.pandaId),
    workflowLink(j.workflowId),
    taskLink(j.taskId),
    j.label,
    j.name,
    stateBadge(j.state),
    j.attemptNr,
    queueLink(j.queue),
    j.errorCode
      ? link(`/jobs/${encodeSegment(j.pandaId)}#errors`, `${j.errors[0]?.source ?? 'pilot'}:${j.errorCode}`)
      : '',
    html`<span class="wrap">${j.errorDiag}</span>`,
    mb(j.metrics?.['maxPssKb']),
    secs(j),
    j.stateChangedAt?.slice(0, 19).replace('T', ' ') ?? '',
  ]);
  const { limit, drop, ...rest } = q;
  const body = html`<h1>Jobs</h1>
    ${filterForm('/jobs', form)}
    ${
      jobs.length === 0
        ? html`<p class="muted">No jobs match these filters.</p>`
        : table(
            [
              'PandaID',
              'workflow',
              'task',
              'label',
              'name',
              'state',
              'attempt',
              'queue',
              'error',
              'diagnostic',
              'max PSS MB',
              'duration s',
              'state changed',
            ],
            rows,
            'jobs',
          )
    }
    ${pager('/jobs', { ...rest, limit, drop }, next)}`;
  return renderPage({ title: 'Jobs', body, jsonHref, live, refreshSeconds: 10 });
}

export interface JobPage {
  job: JobJson;
  attempts: JobJson[];
  /** Log links, when a log service is known. */
  logs: { tail: string; archive: string } | null;
  /** The memory time series from the log archive, or why there is none. */
  memory: MemoryReport;
}

function metricsTable(m: Record<string, number> | null): SafeHtml {
  if (!m) return html`<p class="muted">no measurements reported</p>`;
  const memory = ['Pss', 'Rss', 'Vmem', 'Swap'].map(
    (k) => [k.toUpperCase(), m[`max${k}Kb`] ?? 0, m[`avg${k}Kb`] ?? 0] as const,
  );
  const peak = Math.max(1, ...memory.map(([, max]) => max));
  return html`${table(
    ['memory', 'max MB', 'avg MB', ''],
    memory.map(([name, max, avg]) => [
      name,
      mb(max) || '0',
      mb(avg) || '0',
      html`<svg width="200" height="12" role="img" aria-label="${name}">
        <rect x="0" y="1" width="${Math.round((200 * max) / peak)}" height="10" class="hbar" />
      </svg>`,
    ]),
  )}
  ${fields(
    Object.entries(m)
      .filter(([k]) => !/^(max|avg)(Pss|Rss|Vmem|Swap)Kb$/.test(k))
      .map(([k, v]) => [k, v] as const),
  )}`;
}

export function renderJobDetail(
  p: JobPage,
  codes: Map<string, ErrorCodeInfo>,
  jsonHref: string,
  live?: string[],
): string {
  const j = p.job;
  const errors = j.errors.length
    ? table(
        ['source', 'code', 'name', 'description', 'category', 'diagnostic'],
        j.errors.map((e) => {
          const info = describe(codes, e.source, e.code);
          return [
            e.source,
            e.code,
            info?.name ?? '',
            info
              ? html`<b>${info.shortDesc}</b><br /><span class="wrap">${info.longDesc}</span>`
              : html`<span class="muted">not in the catalogue</span>`,
            info?.category ?? '',
            html`<pre class="diag">${e.diag}</pre>`,
          ];
        }),
        'errors',
      )
    : html`<p class="muted">no errors</p>`;
  const body = html`<h1>Job ${j.pandaId}: ${j.name}</h1>
    ${fields([
      ['state', stateBadge(j.state)],
      ['workflow', workflowLink(j.workflowId)],
      ['task', taskLink(j.taskId)],
      ['label', j.label],
      ['attempt', `${j.attemptNr} of ${j.maxAttempts}`],
      ['queue', queueLink(j.queue)],
      ['worker', workerLink(j.workerId)],
      ['node', j.node || '-'],
      ['command', html`<code>${j.command}</code>`],
      ['memory / cores', `${j.memoryMb} MB, ${j.cores} core(s)`],
      ['priority', j.priority],
      ['walltime', `${j.walltimeS} s`],
      ['exit code', j.exitCode],
      ['command to pilot', j.commandToPilot || '-'],
      ['created', j.createdAt ?? '-'],
      ['started', j.startTime ?? '-'],
      ['ended', j.endTime ?? '-'],
      ['state changed', j.stateChangedAt ?? '-'],
    ])}
    <h2 id="errors">Errors</h2>
    ${errors}
    <h2>Attempts</h2>
    ${table(
      ['PandaID', 'attempt', 'state', 'error', 'diagnostic', 'ended'],
      p.attempts.map((a) => [
        a.pandaId === j.pandaId ? html`<b>${a.pandaId}</b>` : jobLink(a.pandaId),
        a.attemptNr,
        stateBadge(a.state),
        a.errorCode || '',
        html`<span class="wrap">${a.errorDiag}</span>`,
        a.endTime ?? '',
      ]),
      'attempts',
    )}
    <h2>Memory and times</h2>
    ${metricsTable(j.metrics)} ${memorySection(j.pandaId, p.memory)}
    <h2>Logs</h2>
    ${
      p.logs
        ? html`<p>${link(p.logs.tail, 'live log tail')} · ${link(p.logs.archive, 'stored log archive')}</p>`
        : html`<p class="muted">
            No log service is configured (PANDA_GATEWAY_URL); the pilot's logs are not reachable from here
            yet.
          </p>`
    }`;
  return renderPage({ title: `Job ${j.pandaId}`, body, jsonHref, live, refreshSeconds: 10 });
}
