import { InvalidArgumentError } from '@panda/platform';
import type { Logger } from '@panda/platform';
import type { QueueCatalogue } from '../catalogue.js';
import { parseQueue } from '../catalogue.js';
import { describeKubeError } from './api.js';
import type { Condition, PandaQueueApi, PandaQueueObject, WatchEventType } from './api.js';

/** The condition server sets on every PandaQueue it has read. */
export const ACCEPTED = 'Accepted';

export interface PandaQueueWatcherOptions {
  api: PandaQueueApi;
  namespace: string;
  catalogue: Pick<QueueCatalogue, 'setResourceQueue' | 'removeResourceQueue' | 'inFile'>;
  logger: Logger;
  /** Wait before re-listing after a failure: doubles from `initialMs` up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
  now?: () => Date;
}

/** What the watcher remembers of one PandaQueue (by metadata.name). */
interface Tracked {
  /** The queue this resource has in force (its last accepted spec.name), if any. */
  queue: string | undefined;
  /** JSON of the last spec read, accepted or not. */
  seen: string;
  /** Refused because another resource holds its queue name: retried when that one goes. */
  waitingFor?: string;
  object: PandaQueueObject;
}

/**
 * Keeps the catalogue's resource queues equal to the PandaQueues of one namespace: lists them,
 * watches for changes, and lists again whenever the watch ends (after `backoff` when it
 * failed). A resource defines the queue `spec.name` (its metadata.name only names the resource),
 * checked with the catalogue file's rules. A version that fails them is refused: logged, its status condition `Accepted` set to
 * False with the bad field in the message, and the previous version of the queue stays in
 * force. Deleting a resource removes its queue; a file entry of the same name is in force again.
 * Server owns `status.conditions` and `status.observedGeneration`; harvester writes the counters.
 */
export class PandaQueueWatcher {
  private readonly tracked = new Map<string, Tracked>();
  private readonly backoff: { initialMs: number; maxMs: number };
  private chain: Promise<void> = Promise.resolve();
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(private readonly o: PandaQueueWatcherOptions) {
    this.backoff = o.backoff ?? { initialMs: 1000, maxMs: 30_000 };
  }

  /** Lists and watches until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const { items, resourceVersion } = await this.o.api.list(this.o.namespace, signal);
        await this.sync(items);
        failures = 0;
        await this.o.api.watch(
          this.o.namespace,
          resourceVersion,
          (type, object) => this.enqueue(type, object),
          signal,
        );
        await this.chain;
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.o.logger.warn(
          { err: describeKubeError(err), namespace: this.o.namespace, failures },
          'PandaQueue list/watch failed; listing again',
        );
      }
      const wait = Math.min(this.backoff.initialMs * 2 ** Math.max(failures - 1, 0), this.backoff.maxMs);
      await sleep(wait, signal);
    }
    await this.chain;
  }

  /** Resolves once the first list has been applied, or after `timeoutMs` (false then). */
  waitSynced(timeoutMs: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Applies a full list: every item, and the removal of those no longer there. */
  async sync(items: PandaQueueObject[]): Promise<void> {
    await this.chain;
    const names = new Set(items.map((i) => i.metadata.name));
    for (const name of [...this.tracked.keys()]) if (!names.has(name)) await this.remove(name);
    for (const item of items) await this.apply(item);
    if (!this.synced) {
      this.synced = true;
      for (const wake of this.syncWaiters.splice(0)) wake();
    }
  }

  /** One watch event; events are handled one at a time, in order. */
  enqueue(type: WatchEventType, object: PandaQueueObject): void {
    this.chain = this.chain
      .then(() => (type === 'DELETED' ? this.remove(object.metadata.name) : this.apply(object)))
      .catch((err: unknown) => this.o.logger.error({ err }, 'PandaQueue event not handled'));
  }

  private async apply(object: PandaQueueObject, force = false): Promise<void> {
    const name = object.metadata.name;
    const seen = JSON.stringify(object.spec ?? null);
    const before = this.tracked.get(name);
    const statusCurrent =
      object.status?.observedGeneration === object.metadata.generation &&
      object.status?.conditions?.some((c) => c.type === ACCEPTED) === true;
    // Our own status patch (or any other status-only change) comes back as MODIFIED: nothing to do.
    if (!force && before?.seen === seen && statusCurrent) return;

    let condition: Omit<Condition, 'lastTransitionTime'>;
    let waitingFor: string | undefined;
    let queue = before?.queue;
    try {
      const spec = parseQueue(object.spec, 'spec');
      const holder = this.holderOf(spec.name, name);
      if (holder) {
        waitingFor = spec.name;
        throw new InvalidArgumentError(
          'spec.name',
          `queue ${spec.name} is already defined by PandaQueue ${holder}`,
        );
      }
      if (before?.queue && before.queue !== spec.name) this.o.catalogue.removeResourceQueue(before.queue);
      this.o.catalogue.setResourceQueue(spec, { namespace: this.o.namespace, name });
      queue = spec.name;
      const over = this.o.catalogue.inFile(spec.name) ? ', over the catalogue file entry' : '';
      condition = {
        type: ACCEPTED,
        status: 'True',
        reason: 'Valid',
        message: `queue ${spec.name} in force${over}`,
      };
      this.o.logger.info(
        { resource: name, queue: spec.name, generation: object.metadata.generation },
        'PandaQueue applied',
      );
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      const kept = queue
        ? `the previous version of queue ${queue} stays in force`
        : 'no version of it is in force';
      condition = {
        type: ACCEPTED,
        status: 'False',
        reason: waitingFor ? 'NameConflict' : 'InvalidSpec',
        message: `refused: ${err.message}; ${kept}`,
      };
      this.o.logger.error(
        { resource: name, field: err.field, generation: object.metadata.generation, err: err.message },
        `PandaQueue refused; ${kept}`,
      );
    }
    this.tracked.set(name, { queue, seen, waitingFor, object });
    await this.patchCondition(object, condition);
  }

  private async remove(name: string): Promise<void> {
    const before = this.tracked.get(name);
    if (!before) return;
    this.tracked.delete(name);
    if (!before.queue) return;
    this.o.catalogue.removeResourceQueue(before.queue);
    const fallback = this.o.catalogue.inFile(before.queue)
      ? 'the catalogue file entry is in force again'
      : 'removed';
    this.o.logger.info({ resource: name, queue: before.queue }, `PandaQueue deleted: queue ${fallback}`);
    // A resource refused because this one held the name may have it now.
    for (const t of [...this.tracked.values()]) {
      if (t.waitingFor === before.queue) await this.apply(t.object, true);
    }
  }

  /** The other resource holding a queue name, if any. */
  private holderOf(queue: string, except: string): string | undefined {
    for (const [name, t] of this.tracked) if (name !== except && t.queue === queue) return name;
    return undefined;
  }

  private async patchCondition(object: PandaQueueObject, condition: Omit<Condition, 'lastTransitionTime'>) {
    const previous = object.status?.conditions?.find((c) => c.type === ACCEPTED);
    const lastTransitionTime =
      previous?.status === condition.status && previous.lastTransitionTime
        ? previous.lastTransitionTime
        : (this.o.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    const others = (object.status?.conditions ?? []).filter((c) => c.type !== ACCEPTED);
    try {
      await this.o.api.patchStatus(this.o.namespace, object.metadata.name, {
        observedGeneration: object.metadata.generation,
        conditions: [...others, { ...condition, lastTransitionTime }],
      });
    } catch (err) {
      this.o.logger.warn(
        { resource: object.metadata.name, err: describeKubeError(err) },
        'PandaQueue status not updated',
      );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
