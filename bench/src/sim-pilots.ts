import { setTimeout as sleep } from 'node:timers/promises';

/** What a simulated pilot saw of one job. */
export interface SeenJob {
  name: string;
  pandaId: number;
  taskId: number;
  /** The DAG node the job was staged behind, 0 if it was not staged. */
  gateNodeId: number;
  /** The job's `activated_at` (the activating transaction's start), epoch ms. */
  activatedAt: number;
  /** When a pilot got it from getJobs, epoch ms. */
  seenAt: number;
}

export interface SimPilotsOptions {
  gatewayUrl: string;
  queue: string;
  pilots: number;
  /** nJobs of each getJobs call (at most 1000). */
  batch: number;
  /** True once the workflow has ended: pilots stop at their next empty getJobs. */
  done: () => boolean;
  signal: AbortSignal;
}

export interface SimPilotsResult {
  seen: SeenJob[];
  /** Job name -> when the pilot's `finished` update returned, epoch ms. */
  finishedAt: Map<string, number>;
  getJobsCalls: number;
  emptyGetJobs: number;
}

interface JobJson {
  pandaId: number;
  taskId: number;
  gateNodeId: number;
  attemptNr: number;
  name: string;
  createdAt: string | null;
  activatedAt: string | null;
}

/**
 * One call, with a signal of its own: fetch (undici) drops its abort listener only when the
 * request is garbage-collected, so a long-lived signal would collect thousands of them.
 */
async function post<T>(url: string, body: unknown, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Pilots that speak the real pilot-gateway bulk API and run nothing (zero-length payloads):
 * getJobs, then updateJobs `running` and `finished` for the whole batch. An empty getJobs
 * backs off from 5 ms to 100 ms; the loops end once `done()` and the queue is empty.
 */
export async function runSimPilots(o: SimPilotsOptions): Promise<SimPilotsResult> {
  const result: SimPilotsResult = { seen: [], finishedAt: new Map(), getJobsCalls: 0, emptyGetJobs: 0 };
  // The first failing pilot stops the others.
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  const pilot = async (p: number) => {
    const workerId = `bench-dag-pilot-${p}`;
    let idleMs = 5;
    while (!signal.aborted) {
      const { jobs } = await post<{ jobs: JobJson[] }>(
        `${o.gatewayUrl}/pilot/v1/getJobs`,
        { queue: o.queue, nJobs: o.batch, node: `node-${p}`, memoryMb: 4000, cores: 1, workerId },
        signal,
      );
      result.getJobsCalls++;
      if (jobs.length === 0) {
        result.emptyGetJobs++;
        if (o.done()) return;
        await sleep(idleMs, undefined, { signal });
        idleMs = Math.min(100, idleMs * 2);
        continue;
      }
      idleMs = 5;
      const seenAt = Date.now();
      for (const j of jobs) {
        const at = j.activatedAt ?? j.createdAt;
        result.seen.push({
          name: j.name,
          pandaId: j.pandaId,
          taskId: j.taskId,
          gateNodeId: j.gateNodeId,
          activatedAt: at ? Date.parse(at) : NaN,
          seenAt,
        });
      }
      for (const state of ['running', 'finished'] as const) {
        const { results } = await post<{ results: { result: string }[] }>(
          `${o.gatewayUrl}/pilot/v1/updateJobs`,
          { workerId, updates: jobs.map((j) => ({ pandaId: j.pandaId, attemptNr: j.attemptNr, state })) },
          signal,
        );
        const refused = results.find((r) => r.result !== 'ok');
        if (refused) throw new Error(`pilot ${p}: a ${state} update was refused: ${JSON.stringify(refused)}`);
      }
      const finishedAt = Date.now();
      for (const j of jobs) result.finishedAt.set(j.name, finishedAt);
    }
  };
  const errors: unknown[] = [];
  await Promise.all(
    Array.from({ length: o.pilots }, (_, p) =>
      pilot(p).catch((err: unknown) => {
        if (!signal.aborted) errors.push(err);
        stop.abort();
      }),
    ),
  );
  if (errors.length > 0) throw errors[0];
  if (o.signal.aborted) throw new Error('interrupted');
  return result;
}
