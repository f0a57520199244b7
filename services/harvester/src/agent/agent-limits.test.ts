// HarvesterAgent limits: per-queue maxWorkers, the global cap, and the plan (what would be submitted, and why).
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
  it('stops at maxWorkers and at the global cap', async () => {
    const store = new MemoryStore();
    const plugin = new FakePlugin();
    const queues = fakeQueues([queue('A'), queue('B')], { A: 10, B: 10 });
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 5,
      newWorkerId,
    });
    await agent.cycle(signal); // A 2, B 2
    await agent.cycle(signal); // A 1 (global cap 5 reached), B 0
    await agent.cycle(signal); // nothing
    const counts = await store.activeCounts();
    expect(counts.get('A')).toEqual({ queued: 0, running: 3 });
    expect(counts.get('B')).toEqual({ queued: 0, running: 2 });

    // maxWorkers of a queue, with room left globally.
    const store2 = new MemoryStore();
    const agent2 = new HarvesterAgent({
      queues: fakeQueues([queue('A')], { A: 10 }),
      store: store2,
      plugins: [plugin],
      logger,
      maxWorkersTotal: 100,
      newWorkerId,
    });
    for (let i = 0; i < 4; i++) await agent2.cycle(signal);
    expect((await store2.activeCounts()).get('A')).toEqual({ queued: 0, running: 4 });
  });

  it('plans every queue: limits, workers and what bound the adjuster', async () => {
    // given a served queue with one running worker, an offline one and one of another submitter
    const store = new MemoryStore();
    const queues = fakeQueues(
      [
        queue('A', {}, { maxWorkers: 2 }),
        queue('OFF', { status: 'offline' }),
        queue('K8S', {}, { submitter: 'kubernetes' }),
      ],
      { A: 10, OFF: 3, K8S: 4 },
    );
    const agent = new HarvesterAgent({
      queues,
      store,
      plugins: [new FakePlugin()],
      logger,
      maxWorkersTotal: 8,
      newWorkerId,
    });
    await store.create({ workerId: 'x1', queue: 'A', submitter: 'local', cores: 1, memoryMb: 1 });
    await store.move('x1', 'running');

    // when the plan is asked for
    const plan = await agent.plan(signal);

    // then each queue says what the adjuster would do and why, and nothing was submitted
    const by = Object.fromEntries(plan.queues.map((q) => [q.queue.name, q]));
    expect(by.A).toMatchObject({ served: true, activated: 10, running: 1, queued: 0 });
    expect(by.A!.decision).toEqual({
      n: 1,
      boundBy: 'max_workers',
      reason: '1 new: maxWorkers 2 - 0 queued - 1 running',
    });
    expect(by.OFF).toMatchObject({ served: true, decision: { n: 0, boundBy: 'status' } });
    expect(by.K8S).toMatchObject({ served: false, activated: 4, decision: { n: 0, boundBy: 'not_served' } });
    expect(plan).toMatchObject({ maxWorkersTotal: 8, totalRemaining: 7 });
    expect(store.rows.size).toBe(1);
  });
});
