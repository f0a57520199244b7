// HarvesterAgent monitoring: what the plugin observes of workers, and the per-queue counts reported.
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
import { HarvesterAgent } from './agent.js';

describe('HarvesterAgent', () => {
  it('records what the plugin observed and frees room for new workers', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const queues = fakeQueues([queue('A', {}, { maxWorkers: 2 })], { A: 10 });
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    await agent.cycle(signal);
    const [first, second] = [...store.rows.keys()];
    plugin.statuses.set(first!, { state: 'finished', exitCode: 0, nativeStatus: 'exited 0' });
    plugin.statuses.set(second!, {
      state: 'failed',
      exitCode: 3,
      diag: 'pilot exited with code 3',
      nativeStatus: 'exited 3',
    });
    const report = await agent.cycle(signal);
    expect(report.updated).toBe(2);
    expect(store.rows.get(second!)).toMatchObject({
      state: 'failed',
      exitCode: 3,
      diag: 'pilot exited with code 3',
    });
    expect(report.submitted).toEqual({ A: 2 });
  });

  it("records each worker's walltime and log URL from its submission, and a better log URL seen later", async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const agent = new HarvesterAgent({
      queues: fakeQueues([queue('A', { maxtimeS: 7200 }, { maxWorkers: 2, maxNewWorkersPerCycle: 1 })], {
        A: 10,
      }),
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    // a plugin that says nothing: the queue's maxtime, no log URL
    await agent.cycle(signal);
    // a plugin that gives both (a local pilot: no limit, its log file)
    plugin.result = { walltimeS: 0, logUrl: 'file:///work/workers/x/pilot.log' };
    await agent.cycle(signal);
    const [first, second] = [...store.rows.keys()];
    expect(plugin.submitted.map((s) => s.walltimeS)).toEqual([7200, 7200]);
    expect(store.rows.get(first!)).toMatchObject({ walltimeS: 7200, logUrl: '' });
    expect(store.rows.get(second!)).toMatchObject({
      walltimeS: 0,
      logUrl: 'file:///work/workers/x/pilot.log',
    });

    // when the plugin later sees a more precise log URL for a worker whose state did not change
    const events = store.events.length;
    plugin.statuses.set(first!, { state: 'running', nativeStatus: 'Running', logUrl: '/api/v1/pod/log' });
    const report = await agent.cycle(signal);
    // then it is recorded, without a state change or event
    expect(store.rows.get(first!)).toMatchObject({ state: 'running', logUrl: '/api/v1/pod/log' });
    expect(report.updated).toBe(0);
    expect(store.events.length).toBe(events);
  });

  it('reports the counts of every queue after the submitter step, and survives a failing report', async () => {
    const store = new MemoryStore();
    const reports: {
      name: string;
      activatedJobs: number;
      submittedWorkers: number;
      runningWorkers: number;
    }[][] = [];
    let fail = false;
    const agent = new HarvesterAgent({
      queues: fakeQueues([queue('A'), queue('B', { status: 'offline' })], { A: 10, B: 2 }),
      store,
      plugins: [new FakePlugin()],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
      onQueues: async (rows) => {
        if (fail) throw new Error('API down');
        reports.push(rows.map((r) => ({ name: r.queue.name, ...r, queue: undefined })));
      },
    });
    await agent.cycle(signal);
    expect(reports[0]).toEqual([
      expect.objectContaining({ name: 'A', activatedJobs: 10, submittedWorkers: 2, runningWorkers: 0 }),
      expect.objectContaining({ name: 'B', activatedJobs: 2, submittedWorkers: 0, runningWorkers: 0 }),
    ]);
    fail = true;
    expect((await agent.cycle(signal)).submitted).toEqual({ A: 2 });
  });
});
