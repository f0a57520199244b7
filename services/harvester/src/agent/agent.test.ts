// HarvesterAgent.cycle: submitting what the adjuster decides, refused submissions, abort.
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
  it('submits per the adjuster, only to queues it has a plugin for', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const queues = fakeQueues(
      [
        queue('A', { maxrssMb: 8000, corecount: 2 }),
        queue('K8S', {}, { submitter: 'kubernetes' }),
        queue('OFF', { status: 'brokeroff' }),
        queue('EMPTY'),
      ],
      { A: 10, K8S: 10, OFF: 10 },
    );
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    const report = await agent.cycle(signal);
    expect(report.submitted).toEqual({ A: 2 });
    expect(queues.asked).toEqual([['A', 'K8S', 'OFF', 'EMPTY']]);
    expect(plugin.submitted.map((s) => [s.queue, s.cores, s.memoryMb, s.walltimeS])).toEqual([
      ['A', 2, 8000, 86400],
      ['A', 2, 8000, 86400],
    ]);
    const rows = [...store.rows.values()];
    expect(rows.map((r) => [r.state, r.batchId])).toEqual([
      ['running', '1001'],
      ['running', '1002'],
    ]);
    expect(store.events.map((e) => `${e.from}>${e.to}`)).toEqual([
      '>submitted',
      'submitted>running',
      '>submitted',
      'submitted>running',
    ]);
  });

  it('marks a refused submission missed', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    plugin.failNext = true;
    const queues = fakeQueues([queue('A')], { A: 1 });
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    const report = await agent.cycle(signal);
    expect(report.submitted).toEqual({ A: 0 });
    const [row] = [...store.rows.values()];
    expect(row).toMatchObject({ state: 'missed', diag: 'submission failed: no more pids' });
  });

  it('submits nothing once the signal is aborted', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const agent = new HarvesterAgent({
      queues: fakeQueues([queue('A')], { A: 5 }),
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 8,
    });
    const ac = new AbortController();
    ac.abort();
    expect(await agent.cycle(ac.signal)).toEqual({ submitted: {}, updated: 0 });
    expect(plugin.submitted).toHaveLength(0);
  });
});
