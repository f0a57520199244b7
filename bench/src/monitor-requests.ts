import type pg from 'pg';
import { CAMPAIGNS, USERS } from './monitor-plan.js';
import type { Plan } from './monitor-plan.js';
import { percentile } from './stats.js';

/** One timed request: the page it counts for and its path (the format is added when sent). */
export interface Probe {
  page: string;
  path: string;
}

/** Real values to filter by, read from the loaded database. */
export interface Samples {
  workflowIds: number[];
  taskIds: number[];
  queues: string[];
  workerIds: string[];
  workerTimes: string[];
  maxPandaId: number;
  /** First panda id and number of jobs of every workflow (panda ids are contiguous per workflow). */
  workflowJobs: Map<number, { first: number; n: number }>;
}

export async function readSamples(client: pg.Client, plan: Plan): Promise<Samples> {
  const queues = await client.query<{ queue: string }>(`SELECT DISTINCT queue FROM jedi.tasks ORDER BY 1`);
  const workers = await client.query<{ worker_id: string; t: Date }>(
    `SELECT worker_id, submitted_at AS t FROM harvester.workers ORDER BY md5(worker_id) LIMIT 200`,
  );
  return {
    workflowIds: plan.workflows.map((w) => w.workflowId),
    taskIds: plan.tasks.filter((t) => t.jobs > 0).map((t) => t.taskId),
    queues: queues.rows.map((r) => r.queue),
    workerIds: workers.rows.map((r) => r.worker_id),
    workerTimes: workers.rows.map((r) => r.t.toISOString()),
    maxPandaId: plan.jobs,
    workflowJobs: new Map(plan.workflows.map((w) => [w.workflowId, { first: w.firstPandaId, n: w.jobs }])),
  };
}

const JOB_STATES = ['failed', 'finished', 'running', 'activated', 'cancelled', 'failed,closed,cancelled'];
/** Codes of every source present in the data, frequent and rare. */
const ERROR_CODES = [1305, 1235, 1212, 100, 1150, 1213, 1099, 1137, 1317, 1144, 102, 137, 2];

/** Every page and filter the benchmark times, each a generator of random paths. */
export function pageVariants(s: Samples, rnd: () => number): Record<string, () => string> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const pandaId = () => 1 + Math.floor(rnd() * s.maxPandaId);
  const q = (params: Record<string, string | number>) =>
    `?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
  return {
    '/workflows': () =>
      pick([
        '',
        q({ user: pick(USERS) }),
        q({ state: pick(['Finished', 'Transforming', 'SubFinished']) }),
        q({ campaign: pick(CAMPAIGNS) }),
        q({ days: 7 }),
        q({ before: 1 + Math.floor(rnd() * s.workflowIds.length), limit: 5 }),
      ]),
    '/workflows/:id': () => `/${pick(s.workflowIds)}`,
    '/tasks/:id': () => `/${pick(s.taskIds)}`,
    '/jobs': () => pick(['', q({ limit: 100 }), q({ limit: 500 })]),
    '/jobs?workflowId': () => q({ workflowId: pick(s.workflowIds) }),
    '/jobs?taskId': () => q({ taskId: pick(s.taskIds) }),
    '/jobs?state': () => q({ state: pick(JOB_STATES) }),
    '/jobs?queue': () => q({ queue: pick(s.queues) }),
    '/jobs?errorCode': () => q({ errorCode: pick(ERROR_CODES) }),
    '/jobs?drop=1': () =>
      pick([
        q({ drop: 1 }),
        q({ drop: 1, taskId: pick(s.taskIds) }),
        q({ drop: 1, workflowId: pick(s.workflowIds) }),
        q({ drop: 1, state: 'failed' }),
      ]),
    // Deep keyset pages as the pager reaches them: `before` is the panda id of a listed job.
    '/jobs?before': () =>
      pick([
        q({ before: pandaId() }),
        q({ before: pandaId(), state: 'failed' }),
        q({ before: pandaId(), queue: pick(s.queues) }),
        (() => {
          const workflowId = pick(s.workflowIds);
          const { first, n } = s.workflowJobs.get(workflowId)!;
          return q({ before: first + Math.floor(rnd() * n), workflowId });
        })(),
      ]),
    '/jobs?mixed': () =>
      pick([
        q({ taskId: pick(s.taskIds), state: 'failed' }),
        q({ workflowId: pick(s.workflowIds), errorCode: pick(ERROR_CODES) }),
        q({ taskId: pick(s.taskIds), attempt: 2 }),
        q({ queue: pick(s.queues), state: pick(JOB_STATES), drop: 1 }),
      ]),
    '/jobs/:id': () => `/${pandaId()}`,
    '/errors': () => '',
    '/errors?filtered': () =>
      pick([
        q({ queue: pick(s.queues) }),
        q({ taskId: pick(s.taskIds) }),
        q({ workflowId: pick(s.workflowIds) }),
        q({ user: pick(USERS) }),
        q({ days: 30 }),
      ]),
    '/queues': () => pick(['', q({ queue: pick(s.queues) })]),
    '/workers': () =>
      pick([
        '',
        q({ queue: pick(s.queues) }),
        q({ state: pick(['running', 'finished', 'failed']) }),
        q({ before: pick(s.workerTimes) }),
      ]),
    '/workers/:id': () => `/${pick(s.workerIds)}`,
  };
}

/** The route part of a page key: `/jobs?state` -> `/jobs`, `/tasks/:id` -> `/tasks`. */
const routeOf = (page: string) => page.replace(/\?.*$/, '').replace(/\/:id$/, '');

/** `perPage` probes of every page, shuffled so that pages and caches interleave. */
export function makeProbes(
  variants: Record<string, () => string>,
  perPage: number,
  rnd: () => number,
): Probe[] {
  const probes: Probe[] = [];
  for (const [page, next] of Object.entries(variants)) {
    for (let i = 0; i < perPage; i++) probes.push({ page, path: `${routeOf(page)}${next()}` });
  }
  for (let i = probes.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [probes[i], probes[j]] = [probes[j]!, probes[i]!];
  }
  return probes;
}

export interface Timing {
  page: string;
  json: boolean;
  ms: number;
  status: number;
  path: string;
}

/** Sends the probes (HTML and `?json` alternately) with `concurrency` clients; full bodies are read. */
export async function runProbes(
  base: string,
  probes: readonly Probe[],
  concurrency: number,
): Promise<Timing[]> {
  const out: Timing[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        const probe = probes[i];
        if (!probe) return;
        const json = i % 2 === 1;
        const path = json ? `${probe.path}${probe.path.includes('?') ? '&' : '?'}json` : probe.path;
        const t = performance.now();
        const res = await fetch(`${base}${path}`);
        const body = await res.text();
        const ms = performance.now() - t;
        let status = res.status;
        if (status === 200 && json) {
          try {
            JSON.parse(body);
          } catch {
            status = 598; // not JSON
          }
        } else if (status === 200 && !body.includes('</html>')) status = 599; // not a whole page
        out.push({ page: probe.page, json, ms, status, path });
      }
    }),
  );
  return out;
}

export interface PageStats {
  n: number;
  p50_ms: number;
  p95_ms: number;
  html_p95_ms: number;
  json_p95_ms: number;
  max_ms: number;
}

const round = (x: number) => Math.round(x * 10) / 10;

export function pageStats(timings: readonly Timing[]): Record<string, PageStats> {
  const byPage = new Map<string, Timing[]>();
  for (const t of timings) byPage.set(t.page, [...(byPage.get(t.page) ?? []), t]);
  const out: Record<string, PageStats> = {};
  for (const [page, ts] of byPage) {
    const ms = ts.map((t) => t.ms);
    out[page] = {
      n: ts.length,
      p50_ms: round(percentile(ms, 50)),
      p95_ms: round(percentile(ms, 95)),
      html_p95_ms: round(
        percentile(
          ts.filter((t) => !t.json).map((t) => t.ms),
          95,
        ),
      ),
      json_p95_ms: round(
        percentile(
          ts.filter((t) => t.json).map((t) => t.ms),
          95,
        ),
      ),
      max_ms: round(Math.max(...ms)),
    };
  }
  return out;
}
