import { describe, expect, it } from 'vitest';
import { adjust, newWorkerCount } from './adjuster.js';
import type { AdjusterInput } from './adjuster.js';

const base: AdjusterInput = {
  status: 'online',
  mode: 'pull',
  activated: 100,
  queued: 0,
  running: 0,
  nQueueLimitWorker: 5,
  maxWorkers: 20,
  maxNewWorkersPerCycle: 0,
  globalRemaining: 100,
};
const n = (over: Partial<AdjusterInput>) => newWorkerCount({ ...base, ...over });

describe('newWorkerCount', () => {
  it('fills the queue up to nQueueLimitWorker', () => {
    expect(n({})).toBe(5);
    expect(n({ queued: 3 })).toBe(2);
    expect(n({ queued: 5 })).toBe(0);
    expect(n({ queued: 9 })).toBe(0);
  });

  it('gives nothing to a queue that is not online', () => {
    for (const status of ['offline', 'brokeroff', 'test', 'paused', '']) expect(n({ status })).toBe(0);
  });

  it('gives nothing when no job is activated, in pull and push mode', () => {
    expect(n({ activated: 0 })).toBe(0);
    expect(n({ activated: 0, mode: 'push' })).toBe(0);
  });

  it('caps by maxWorkers minus queued and running', () => {
    expect(n({ maxWorkers: 4, running: 1 })).toBe(3);
    expect(n({ maxWorkers: 4, running: 3, queued: 1 })).toBe(0);
    expect(n({ maxWorkers: 4, running: 6 })).toBe(0);
    expect(n({ maxWorkers: 0, running: 1000 })).toBe(5); // 0: no cap
  });

  it('caps by maxNewWorkersPerCycle (0 means no cap)', () => {
    expect(n({ maxNewWorkersPerCycle: 2 })).toBe(2);
    expect(n({ maxNewWorkersPerCycle: 0 })).toBe(5);
  });

  it('caps by the global remaining count', () => {
    expect(n({ globalRemaining: 1 })).toBe(1);
    expect(n({ globalRemaining: 0 })).toBe(0);
    expect(n({ globalRemaining: -3 })).toBe(0);
  });

  it('in pull mode queues no more workers than activated jobs', () => {
    expect(n({ activated: 2 })).toBe(2);
    expect(n({ activated: 2, queued: 1 })).toBe(1);
    expect(n({ activated: 2, queued: 2 })).toBe(0);
  });

  it('in push mode is not capped by activated jobs', () => {
    expect(n({ mode: 'push', activated: 2 })).toBe(5);
  });

  it('matches the catalogue queue SLAC_Rubin (limit 2, max 4, 2 per cycle)', () => {
    const rubin = { nQueueLimitWorker: 2, maxWorkers: 4, maxNewWorkersPerCycle: 2 };
    expect(n({ ...rubin })).toBe(2);
    expect(n({ ...rubin, running: 2 })).toBe(2);
    expect(n({ ...rubin, running: 3 })).toBe(1);
    expect(n({ ...rubin, running: 4 })).toBe(0);
    expect(n({ ...rubin, activated: 1 })).toBe(1);
  });

  it('treats odd inputs as zero instead of failing', () => {
    expect(n({ activated: Number.NaN })).toBe(0);
    expect(n({ queued: -2 })).toBe(5);
  });
});

describe('adjust: what bound the answer', () => {
  const a = (over: Partial<AdjusterInput>) => adjust({ ...base, ...over });
  it('names the status, the lack of jobs and each cap', () => {
    expect(a({ status: 'offline' })).toMatchObject({ n: 0, boundBy: 'status' });
    expect(a({ status: 'offline' }).reason).toMatch(/offline/);
    expect(a({ activated: 0 })).toMatchObject({ n: 0, boundBy: 'no_activated_jobs' });
    expect(a({})).toMatchObject({ n: 5, boundBy: 'n_queue_limit_worker' });
    expect(a({ activated: 2 })).toMatchObject({ n: 2, boundBy: 'activated_jobs' });
    expect(a({ activated: 2, mode: 'push' })).toMatchObject({ n: 5, boundBy: 'n_queue_limit_worker' });
    expect(a({ maxWorkers: 4, running: 1 })).toMatchObject({ n: 3, boundBy: 'max_workers' });
    expect(a({ maxWorkers: 4, running: 1 }).reason).toBe('3 new: maxWorkers 4 - 0 queued - 1 running');
    expect(a({ maxNewWorkersPerCycle: 2 })).toMatchObject({ n: 2, boundBy: 'max_new_workers_per_cycle' });
    expect(a({ globalRemaining: 1 })).toMatchObject({ n: 1, boundBy: 'max_workers_total' });
  });
  it('keeps the first cap when a later one allows as many', () => {
    expect(a({ maxWorkers: 22, maxNewWorkersPerCycle: 5 })).toMatchObject({
      n: 5,
      boundBy: 'n_queue_limit_worker',
    });
  });
});
