// HarvesterAgent on push queues: a job acquired per worker and handed over, and worker tokens.
import { verifyPilotToken } from '@panda/platform';
import type { AcquireJobsRequest, Job, UpdateJobsRequest } from '@panda/proto';
import { describe, expect, it } from 'vitest';
import {
  fakeQueues,
  FakePlugin,
  logger,
  MemoryStore,
  newWorkerId,
  queue,
  signal,
} from '../test-support/agent.js';
import { tokenIssuer } from '../tokens/issuer.js';
import { HarvesterAgent } from './agent.js';
import { JobPusher } from './push.js';
import type { DispatchClient } from './push.js';

/** server's DispatchService as far as push mode uses it: activated jobs, sent, starting. */
class FakeDispatch implements DispatchClient {
  readonly jobs: Job[];
  refuseStarting = false;

  constructor(n: number) {
    this.jobs = Array.from(
      { length: n },
      (_, i) => ({ pandaId: 100 + i, state: 'activated', attemptNr: 1 }) as Job,
    );
  }

  acquireJobs = async (req: AcquireJobsRequest) => {
    const job = this.jobs.find((j) => j.state === 'activated');
    if (!job) return { jobs: [] };
    Object.assign(job, { state: 'sent', workerId: req.workerId, createdAt: new Date(0), command: 'true' });
    return { jobs: [{ ...job }] };
  };

  updateJobs = async (req: UpdateJobsRequest) => ({
    results: req.updates.map((u) => {
      const job = this.jobs.find((j) => j.pandaId === u.pandaId)!;
      if (this.refuseStarting)
        return { pandaId: u.pandaId, result: 'illegal', state: job.state, commandToPilot: '', message: 'no' };
      job.state = u.state;
      return { pandaId: u.pandaId, result: 'ok', state: job.state, commandToPilot: '', message: '' };
    }),
  });
}

describe('HarvesterAgent, push queues and tokens', () => {
  const secret = 'a-secret-shared-with-the-gateway';
  const pushQueue = queue('P', {}, { mode: 'push', nQueueLimitWorker: 3, maxNewWorkersPerCycle: 3 });
  const setup = (dispatchJobs: number, activated: number) => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const dispatch = new FakeDispatch(dispatchJobs);
    const agent = new HarvesterAgent({
      queues: fakeQueues([pushQueue, queue('A')], { P: activated, A: 1 }),
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
      issueToken: tokenIssuer({ secret, marginS: 60 }),
      pusher: new JobPusher(dispatch, 'harvester-node'),
    });
    return { store, plugin, dispatch, agent };
  };

  it('acquires a job per push worker, moves it to starting and hands it over with a token', async () => {
    // given a push queue with 2 activated jobs (the stats say 3: one was taken meanwhile)
    const { store, plugin, dispatch, agent } = setup(2, 3);

    // when a cycle runs
    const report = await agent.cycle(signal);

    // then two push workers were made, each holding its own job in starting
    expect(report.submitted).toEqual({ P: 2, A: 1 });
    const pushed = plugin.submitted.filter((s) => s.queue === 'P');
    expect(pushed.map((s) => s.job?.pandaId)).toEqual([100, 101]);
    for (const spec of pushed) {
      const job = dispatch.jobs.find((j) => j.pandaId === spec.job!.pandaId)!;
      expect(job).toMatchObject({ state: 'starting', workerId: spec.workerId });
      expect(spec.job!.json).toMatchObject({
        pandaId: job.pandaId,
        state: 'starting',
        createdAt: new Date(0).toISOString(),
      });
    }
    // and every worker, push or pull, got a token naming it and its queue
    for (const spec of plugin.submitted) {
      expect(verifyPilotToken(spec.token!, secret)).toMatchObject({
        workerId: spec.workerId,
        queue: spec.queue,
      });
    }
    expect(plugin.submitted.find((s) => s.queue === 'A')?.job).toBeUndefined();
    // and no worker was recorded for the third, empty acquisition
    expect([...store.rows.values()].filter((r) => r.queue === 'P')).toHaveLength(2);
  });

  it('marks the worker missed and starts nothing when the server refuses starting', async () => {
    const { store, plugin, dispatch, agent } = setup(1, 1);
    dispatch.refuseStarting = true;
    const report = await agent.cycle(signal);
    expect(report.submitted.P).toBe(0);
    expect(plugin.submitted.filter((s) => s.queue === 'P')).toEqual([]);
    const [row] = [...store.rows.values()].filter((r) => r.queue === 'P');
    expect(row).toMatchObject({
      state: 'missed',
      diag: expect.stringMatching(/refused job 100 in starting: illegal/),
    });
  });

  it('skips push queues whose plugin cannot hand jobs over', async () => {
    const { plugin, dispatch, agent } = setup(2, 2);
    plugin.supportsPush = false;
    expect((await agent.cycle(signal)).submitted).toEqual({ A: 1 });
    expect(dispatch.jobs.every((j) => j.state === 'activated')).toBe(true);
  });
});
