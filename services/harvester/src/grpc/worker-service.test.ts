import { NotFoundError } from '@panda/platform';
import type { GetQueueLimitsResponse, Queue } from '@panda/proto';
import type { CallContext } from 'nice-grpc-common';
import { describe, expect, it } from 'vitest';
import type { CyclePlan } from '../agent/agent.js';
import { workerService } from './worker-service.js';

const queue = (name: string, status = 'online'): Queue => ({
  name,
  site: 'SLAC',
  status,
  corecount: 1,
  minrssMb: 0,
  maxrssMb: 4000,
  maxtimeS: 3600,
  harvester: {
    submitter: 'kubernetes',
    mode: 'push',
    maxWorkers: 4,
    nQueueLimitWorker: 2,
    maxNewWorkersPerCycle: 1,
    paramsJson: '{}',
  },
  timeouts: undefined,
  resource: undefined,
});

const plan: CyclePlan = {
  maxWorkersTotal: 8,
  totalRemaining: 5,
  queues: [
    {
      queue: queue('K8S'),
      served: true,
      activated: 7,
      runningJobs: 2,
      queued: 1,
      running: 2,
      decision: { n: 1, boundBy: 'max_new_workers_per_cycle', reason: '1 new: maxNewWorkersPerCycle 1' },
    },
    {
      queue: queue('OFF', 'offline'),
      served: true,
      activated: 3,
      runningJobs: 0,
      queued: 0,
      running: 0,
      decision: { n: 0, boundBy: 'status', reason: 'queue is offline, not online' },
    },
  ],
};

const service = workerService(
  {
    list: () => Promise.resolve([]),
    countsByQueueAndState: () =>
      Promise.resolve([
        { queue: 'K8S', state: 'finished', count: 12 },
        { queue: 'K8S', state: 'running', count: 2 },
        { queue: 'K8S', state: 'submitted', count: 1 },
      ]),
  },
  { plan: () => Promise.resolve(plan) },
);
const context = { signal: new AbortController().signal } as CallContext;
const limits = async (queue: string) =>
  (await service.getQueueLimits({ queue }, context)) as GetQueueLimitsResponse;

describe('WorkerService.GetQueueLimits', () => {
  it('returns per queue the limits, the workers by state and what the adjuster would do', async () => {
    const res = await limits('');
    expect(res).toMatchObject({ maxWorkersTotal: 8, totalRemaining: 5 });
    expect(res.queues[0]).toEqual({
      queue: 'K8S',
      status: 'online',
      mode: 'push',
      submitter: 'kubernetes',
      served: true,
      maxWorkers: 4,
      nQueueLimitWorker: 2,
      maxNewWorkersPerCycle: 1,
      activatedJobs: 7,
      workers: { finished: 12, running: 2, submitted: 1 },
      nNewWorkers: 1,
      boundBy: 'max_new_workers_per_cycle',
      reason: '1 new: maxNewWorkersPerCycle 1',
    });
    expect(res.queues[1]).toMatchObject({ queue: 'OFF', workers: {}, nNewWorkers: 0, boundBy: 'status' });
  });

  it('filters by queue, and says when the queue is unknown', async () => {
    const res = await limits('OFF');
    expect(res.queues.map((q) => q.queue)).toEqual(['OFF']);
    await expect(limits('NOPE')).rejects.toBeInstanceOf(NotFoundError);
  });
});
