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
