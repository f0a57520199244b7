import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@panda/platform';
import { describe, expect, it } from 'vitest';
import { QueueCatalogue } from '../catalogue.js';
import type { PandaQueueApi, PandaQueueObject, WatchEventType } from './api.js';
import { PandaQueueWatcher } from './watcher.js';

const example = readFileSync(new URL('../../../../../config/queues.json', import.meta.url), 'utf8');
const logger = createLogger({ service: 'test', level: 'silent' });

function catalogue(): QueueCatalogue {
  const file = join(mkdtempSync(join(tmpdir(), 'pq-')), 'queues.json');
  writeFileSync(file, example);
  return new QueueCatalogue(file, logger);
}

const spec = (over: Record<string, unknown> = {}) => ({
  name: 'SLAC_Rubin',
  site: 'SLAC',
  status: 'online',
  corecount: 1,
  maxrss: 4000,
  maxtime: 3600,
  harvester: { submitter: 'local', maxWorkers: 9, nQueueLimitWorker: 3, maxNewWorkersPerCycle: 3 },
  ...over,
});

const pq = (name: string, generation: number, s: unknown): PandaQueueObject => ({
  metadata: { name, namespace: 'ns', generation },
  spec: s,
});

/** A fake API: lists what `items` holds, hands the watch's callback to the test. */
class FakeApi implements PandaQueueApi {
  items: PandaQueueObject[] = [];
  lists = 0;
  failNextList = false;
  patches: { name: string; status: Record<string, unknown> }[] = [];
  emit: ((type: WatchEventType, o: PandaQueueObject) => void) | undefined;
  endWatch: ((err?: Error) => void) | undefined;

  list() {
    this.lists++;
    if (this.failNextList) {
      this.failNextList = false;
      return Promise.reject(new Error('connection refused'));
    }
    return Promise.resolve({ items: structuredClone(this.items), resourceVersion: String(this.lists) });
  }
  watch(_ns: string, _rv: string, onEvent: (type: WatchEventType, o: PandaQueueObject) => void) {
    this.emit = onEvent;
    return new Promise<void>((resolve, reject) => {
      this.endWatch = (err) => (err ? reject(err) : resolve());
    });
  }
  patchStatus(_ns: string, name: string, status: Record<string, unknown>) {
    this.patches.push({ name, status });
    return Promise.resolve();
  }
  lastCondition(name: string) {
    const p = this.patches.filter((x) => x.name === name).at(-1);
    return (p?.status.conditions as { type: string; status: string; reason: string; message: string }[])[0]!;
  }
}

const settle = () => new Promise((r) => setTimeout(r, 30));

async function started(api: FakeApi, cat: QueueCatalogue) {
  const controller = new AbortController();
  const watcher = new PandaQueueWatcher({
    api,
    namespace: 'ns',
    catalogue: cat,
    logger,
    backoff: { initialMs: 10, maxMs: 40 },
  });
  const running = watcher.run(controller.signal);
  expect(await watcher.waitSynced(1000)).toBe(true);
  return {
    stop: async () => {
      controller.abort();
      api.endWatch?.();
      await running;
    },
  };
}

describe('PandaQueue watcher', () => {
  it('given a PandaQueue for a file queue, then it overrides the file entry and is marked Accepted', async () => {
    const api = new FakeApi();
    api.items = [pq('slac-rubin', 1, spec())];
    const cat = catalogue();
    const w = await started(api, cat);
    expect(cat.get('SLAC_Rubin')).toMatchObject({
      harvester: { maxWorkers: 9, mode: 'pull' },
      minrss: 0,
      resource: { namespace: 'ns', name: 'slac-rubin' },
    });
    expect(cat.list().filter((q) => q.name === 'SLAC_Rubin')).toHaveLength(1);
    expect(api.patches[0]!.status.observedGeneration).toBe(1);
    expect(api.lastCondition('slac-rubin')).toMatchObject({
      type: 'Accepted',
      status: 'True',
      reason: 'Valid',
    });
    await w.stop();
  });

  it('given a malformed edit, then it is refused naming the field and the previous version stays', async () => {
    const api = new FakeApi();
    api.items = [pq('new-queue', 1, spec({ name: 'NEW_Queue' }))];
    const cat = catalogue();
    const w = await started(api, cat);
    // when the spec is edited with a bad value
    const bad = spec({ name: 'NEW_Queue', status: 'offline' });
    (bad.harvester as Record<string, unknown>).maxWorkers = 'lots';
    api.emit!('MODIFIED', pq('new-queue', 2, bad));
    await settle();
    // then the queue is unchanged and the status names the field
    expect(cat.get('NEW_Queue')).toMatchObject({ status: 'online', harvester: { maxWorkers: 9 } });
    const c = api.lastCondition('new-queue');
    expect(c).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(c.message).toMatch(/spec\.harvester\.maxWorkers/);
    expect(c.message).toMatch(/previous version of queue NEW_Queue stays in force/);
    // and a cross-field rule is checked too
    api.emit!('MODIFIED', pq('new-queue', 3, spec({ name: 'NEW_Queue', minrss: 5000 })));
    await settle();
    expect(api.lastCondition('new-queue').message).toMatch(/spec\.minrss: minrss must not exceed maxrss/);
    await w.stop();
  });

  it('given its own status patch coming back, then nothing is patched again', async () => {
    const api = new FakeApi();
    api.items = [pq('new-queue', 1, spec({ name: 'NEW_Queue' }))];
    const w = await started(api, catalogue());
    const echoed = { ...pq('new-queue', 1, spec({ name: 'NEW_Queue' })), status: api.patches[0]!.status };
    api.emit!('MODIFIED', echoed as PandaQueueObject);
    await settle();
    expect(api.patches).toHaveLength(1);
    await w.stop();
  });

  it('given a deleted PandaQueue, then its queue goes and a file entry of that name comes back', async () => {
    const api = new FakeApi();
    api.items = [pq('slac-rubin', 1, spec()), pq('new-queue', 1, spec({ name: 'NEW_Queue' }))];
    const cat = catalogue();
    const w = await started(api, cat);
    api.emit!('DELETED', pq('slac-rubin', 1, spec()));
    api.emit!('DELETED', pq('new-queue', 1, spec({ name: 'NEW_Queue' })));
    await settle();
    expect(cat.get('SLAC_Rubin')).toMatchObject({ harvester: { maxWorkers: 4 } });
    expect(cat.get('SLAC_Rubin')?.resource).toBeUndefined();
    expect(cat.get('NEW_Queue')).toBeUndefined();
    await w.stop();
  });

  it('given two PandaQueues for one queue, then the second is refused until the first goes', async () => {
    const api = new FakeApi();
    api.items = [pq('a', 1, spec()), pq('b', 1, spec({ status: 'offline' }))];
    const cat = catalogue();
    const w = await started(api, cat);
    expect(api.lastCondition('b')).toMatchObject({ status: 'False', reason: 'NameConflict' });
    expect(cat.get('SLAC_Rubin')?.status).toBe('online');
    api.emit!('DELETED', pq('a', 1, spec()));
    await settle();
    expect(cat.get('SLAC_Rubin')).toMatchObject({ status: 'offline', resource: { name: 'b' } });
    expect(api.lastCondition('b')).toMatchObject({ status: 'True' });
    await w.stop();
  });

  it('given a watch that fails, then it lists again after a back-off and drops what is gone', async () => {
    const api = new FakeApi();
    api.items = [pq('new-queue', 1, spec({ name: 'NEW_Queue' }))];
    const cat = catalogue();
    const w = await started(api, cat);
    api.items = [];
    api.failNextList = true;
    api.endWatch!(new Error('connection reset'));
    await new Promise((r) => setTimeout(r, 150));
    expect(api.lists).toBeGreaterThanOrEqual(3);
    expect(cat.get('NEW_Queue')).toBeUndefined();
    await w.stop();
  });
});
