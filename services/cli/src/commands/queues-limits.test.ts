import type { GetQueueLimitsResponse } from '@panda/proto';
import { ClientError, Status } from 'nice-grpc-common';
import { describe, expect, it } from 'vitest';
import type { WorkerClient } from '../grpc/services.js';
import { runCli } from '../program.js';
import type { CommandContext } from './context.js';

const response: GetQueueLimitsResponse = {
  maxWorkersTotal: 8,
  totalRemaining: 5,
  queues: [
    {
      queue: 'K8S_Rubin',
      status: 'online',
      mode: 'push',
      submitter: 'kubernetes',
      served: true,
      maxWorkers: 4,
      nQueueLimitWorker: 2,
      maxNewWorkersPerCycle: 1,
      activatedJobs: 7,
      workers: { submitted: 1, running: 1, idle: 1, finished: 9 },
      nNewWorkers: 0,
      boundBy: 'max_workers',
      reason: '0 new: maxWorkers 4 - 1 queued - 2 running',
    },
    {
      queue: 'SLURM',
      status: 'offline',
      mode: 'pull',
      submitter: 'slurm',
      served: false,
      maxWorkers: 2,
      nQueueLimitWorker: 1,
      maxNewWorkersPerCycle: 1,
      activatedJobs: 0,
      workers: {},
      nNewWorkers: 0,
      boundBy: 'not_served',
      reason: 'not served: no slurm plugin here',
    },
  ],
};

function harness() {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const workers = {
    listWorkers: () => Promise.resolve({ workers: [] }),
    getQueueLimits: (req: { queue?: string }) => {
      asked.push(req.queue ?? '');
      if (req.queue === 'NOPE')
        return Promise.reject(new ClientError('/x', Status.NOT_FOUND, 'queue NOPE not found'));
      return Promise.resolve(response);
    },
  } as unknown as WorkerClient;
  const none = () => {
    throw new Error('not used');
  };
  const ctx: CommandContext = {
    services: {
      idds: none,
      jobs: none,
      queues: none,
      tasks: none,
      workers: () => ({ name: 'harvester', address: '127.0.0.1:1', client: workers }),
    },
    output: { out: (l) => out.push(l), err: (l) => err.push(l) },
    signal: new AbortController().signal,
    sleep: () => Promise.resolve(),
    pollIntervalMs: 0,
  };
  return { out, err, asked, run: (...args: string[]) => runCli(args, ctx) };
}

describe('panda queues --limits', () => {
  it("prints harvester's limits, workers and the adjuster's decision per queue", async () => {
    const h = harness();
    expect(await h.run('queues', '--limits')).toBe(0);
    const [header, k8s, slurm, total] = h.out.join('\n').split('\n');
    expect(header).toMatch(
      /^QUEUE\s+STATUS\s+MODE\s+SUBMITTER\s+MAX_WORKERS\s+Q_LIMIT\s+PER_CYCLE\s+ACTIVATED\s+SUBMITTED\s+RUNNING\s+NEW\s+BOUND_BY$/,
    );
    expect(k8s?.split(/\s+/)).toEqual([
      'K8S_Rubin',
      'online',
      'push',
      'kubernetes',
      '4',
      '2',
      '1',
      '7',
      '1',
      '2',
      '0',
      'max_workers',
    ]);
    expect(slurm).toContain('slurm (not served)');
    expect(total).toBe('total cap 8 workers, 5 more allowed now');
  });

  it('prints JSON with --json and passes --queue', async () => {
    const h = harness();
    expect(await h.run('queues', '--limits', '--queue', 'K8S_Rubin', '--json')).toBe(0);
    expect(h.asked).toEqual(['K8S_Rubin']);
    expect(JSON.parse(h.out.join('\n'))).toMatchObject({
      maxWorkersTotal: 8,
      queues: [{ queue: 'K8S_Rubin' }, {}],
    });
  });

  it('exits 3 for an unknown queue', async () => {
    const h = harness();
    expect(await h.run('queues', '--limits', '--queue', 'NOPE')).toBe(3);
    expect(h.err.join('\n')).toContain('NOPE');
  });
});
