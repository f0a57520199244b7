import { createLogger } from '@panda/platform';
import type { Queue } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import type { QueueCounts } from '../agent/agent.js';
import { QueueStatusReporter } from './reporter.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const queue = (name: string, resource?: string) =>
  ({ name, resource: resource ? { namespace: 'panda', name: resource } : undefined }) as Queue;
const row = (q: Queue, over: Partial<QueueCounts> = {}): QueueCounts => ({
  queue: q,
  activatedJobs: 3,
  runningJobs: 1,
  submittedWorkers: 2,
  runningWorkers: 1,
  ...over,
});

describe('QueueStatusReporter', () => {
  it('patches the counters of resource queues only, and only when they change or grow old', async () => {
    const patches: [string, string, Record<string, number>][] = [];
    let now = 0;
    const reporter = new QueueStatusReporter({
      patch: async (ns, name, status) => {
        patches.push([ns, name, status]);
      },
      logger,
      refreshMs: 1000,
      now: () => now,
    });
    const k8s = queue('K8S_Rubin', 'k8s-rubin');
    await reporter.report([row(k8s), row(queue('FILE_Queue'))]);
    expect(patches).toEqual([
      ['panda', 'k8s-rubin', { activatedJobs: 3, runningJobs: 1, submittedWorkers: 2, runningWorkers: 1 }],
    ]);
    await reporter.report([row(k8s)]);
    expect(patches).toHaveLength(1);
    await reporter.report([row(k8s, { runningWorkers: 2 })]);
    expect(patches).toHaveLength(2);
    now = 5000;
    await reporter.report([row(k8s, { runningWorkers: 2 })]);
    expect(patches).toHaveLength(3);
  });

  it('retries a failed patch at the next report', async () => {
    let fail = true;
    let patched = 0;
    const reporter = new QueueStatusReporter({
      patch: async () => {
        if (fail) throw new Error('connection refused');
        patched++;
      },
      logger,
    });
    const k8s = queue('K8S_Rubin', 'k8s-rubin');
    await reporter.report([row(k8s)]);
    fail = false;
    await reporter.report([row(k8s)]);
    expect(patched).toBe(1);
  });
});
