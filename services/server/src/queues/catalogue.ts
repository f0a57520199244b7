import { readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '@panda/platform';
import type { Logger } from '@panda/platform';
import type { Queue } from '@panda/proto';
import { z } from 'zod';

/** Queue status names as in the original's CRIC JSON. */
export const QUEUE_STATUSES = ['online', 'offline', 'brokeroff', 'test', 'paused'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

const harvesterSchema = z.strictObject({
  submitter: z.enum(['kubernetes', 'slurm', 'local']),
  mode: z.enum(['pull', 'push']).default('pull'),
  maxWorkers: z.number().int().min(0),
  nQueueLimitWorker: z.number().int().min(0),
  maxNewWorkersPerCycle: z.number().int().min(0),
  params: z.record(z.string(), z.unknown()).default({}),
});

/** The original's defaults: 2 h without a heartbeat, 30 min in sent, 3 h in holding. */
export const DEFAULT_TIMEOUTS = { heartbeatS: 7200, sentS: 1800, holdingS: 10_800 };

/**
 * `startingS`: how long a job may sit in `starting` without an update. A push queue's job waits
 * there while its worker is queued in the batch system, so such queues set it higher. Defaults
 * to `heartbeatS`.
 */

const timeoutsSchema = z.strictObject({
  heartbeatS: z.number().int().positive().default(DEFAULT_TIMEOUTS.heartbeatS),
  sentS: z.number().int().positive().default(DEFAULT_TIMEOUTS.sentS),
  holdingS: z.number().int().positive().default(DEFAULT_TIMEOUTS.holdingS),
  startingS: z.number().int().positive().optional(),
});

const queueSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    site: z.string().min(1),
    status: z.enum(QUEUE_STATUSES),
    corecount: z.number().int().positive(),
    minrss: z.number().int().min(0).default(0),
    maxrss: z.number().int().positive(),
    maxtime: z.number().int().positive(),
    harvester: harvesterSchema,
    timeouts: timeoutsSchema.default(DEFAULT_TIMEOUTS),
  })
  .refine((q) => q.minrss <= q.maxrss, { message: 'minrss must not exceed maxrss', path: ['minrss'] });

const catalogueSchema = z.strictObject({ queues: z.array(queueSchema) });

export type QueueSpec = z.infer<typeof queueSchema>;

/** The PandaQueue custom resource a queue comes from (namespace and metadata.name). */
export interface QueueResourceRef {
  namespace: string;
  name: string;
}

/** A queue in force: from the file, or from a PandaQueue (`resource` set). */
export type CatalogueEntry = QueueSpec & { resource?: QueueResourceRef };

/**
 * Parses one queue (a PandaQueue's spec) with the catalogue's rules; the error names the
 * field under `prefix` (e.g. `spec.harvester.maxWorkers`).
 */
export function parseQueue(json: unknown, prefix = 'spec'): QueueSpec {
  const result = queueSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidArgumentError([prefix, ...issue.path.map(String)].join('.'), issue.message);
}

/** Parses a catalogue; errors name the queue and the field. */
export function parseCatalogue(text: string): QueueSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError('queues', `not valid JSON: ${(err as Error).message}`);
  }
  const result = catalogueSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const [, index, ...rest] = issue.path;
    const raw = (json as { queues?: { name?: unknown }[] }).queues?.[Number(index)];
    const where = typeof index === 'number' ? `queue ${String(raw?.name ?? `#${index}`)}` : 'queues';
    throw new InvalidArgumentError(rest.length ? `${where}.${rest.join('.')}` : where, issue.message);
  }
  const seen = new Set<string>();
  for (const q of result.data.queues) {
    if (seen.has(q.name)) throw new InvalidArgumentError(`queue ${q.name}`, 'defined twice');
    seen.add(q.name);
  }
  return result.data.queues;
}

export function toProtoQueue(q: CatalogueEntry): Queue {
  return {
    name: q.name,
    site: q.site,
    status: q.status,
    corecount: q.corecount,
    minrssMb: q.minrss,
    maxrssMb: q.maxrss,
    maxtimeS: q.maxtime,
    harvester: {
      submitter: q.harvester.submitter,
      mode: q.harvester.mode,
      maxWorkers: q.harvester.maxWorkers,
      nQueueLimitWorker: q.harvester.nQueueLimitWorker,
      maxNewWorkersPerCycle: q.harvester.maxNewWorkersPerCycle,
      paramsJson: JSON.stringify(q.harvester.params),
    },
    timeouts: { ...q.timeouts, startingS: q.timeouts.startingS ?? q.timeouts.heartbeatS },
    resource: q.resource ? { ...q.resource } : undefined,
  };
}

/**
 * The queue catalogue loaded from a JSON file (a ConfigMap in Kubernetes). Reloaded when
 * the file changes; a bad new version is refused and the previous one stays in force.
 *
 * Queues defined by PandaQueue custom resources (`setResourceQueue`, fed by
 * `PandaQueueWatcher`) lie over the file: a resource's queue replaces the file's entry of the
 * same name, and removing it brings the file's entry back.
 */
export class QueueCatalogue {
  private queues: QueueSpec[];
  private text: string;
  private watcher: FSWatcher | undefined;
  private readonly resourceQueues = new Map<string, CatalogueEntry & { resource: QueueResourceRef }>();
  private merged: CatalogueEntry[] | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    this.text = readFileSync(file, 'utf8');
    this.queues = parseCatalogue(this.text);
  }

  /** The queues in force: the file's, each replaced by a resource's of the same name, then the resources' others. */
  list(): CatalogueEntry[] {
    if (!this.merged) {
      const fromFile = this.queues.map((q) => this.resourceQueues.get(q.name) ?? q);
      const onlyResources = [...this.resourceQueues.values()]
        .filter((q) => !this.queues.some((f) => f.name === q.name))
        .sort((a, b) => a.name.localeCompare(b.name));
      this.merged = [...fromFile, ...onlyResources];
    }
    return this.merged;
  }

  get(name: string): CatalogueEntry | undefined {
    return this.resourceQueues.get(name) ?? this.queues.find((q) => q.name === name);
  }

  /** Whether the catalogue file defines the queue (its entry comes back when the resource goes). */
  inFile(name: string): boolean {
    return this.queues.some((q) => q.name === name);
  }

  /** Puts a queue defined by a PandaQueue in force (replacing an earlier one of that name). */
  setResourceQueue(queue: QueueSpec, resource: QueueResourceRef): void {
    this.resourceQueues.set(queue.name, { ...queue, resource: { ...resource } });
    this.merged = undefined;
  }

  /** Removes a resource's queue; the file's entry of that name, if any, is in force again. */
  removeResourceQueue(name: string): void {
    if (this.resourceQueues.delete(name)) this.merged = undefined;
  }

  /** The resource that defines a queue now, if any. */
  resourceOf(name: string): QueueResourceRef | undefined {
    return this.resourceQueues.get(name)?.resource;
  }

  reload(): void {
    try {
      const text = readFileSync(this.file, 'utf8');
      if (text === this.text) return;
      this.queues = parseCatalogue(text);
      this.text = text;
      this.merged = undefined;
      this.logger.info({ file: this.file, queues: this.queues.length }, 'queue catalogue reloaded');
    } catch (err) {
      this.logger.error({ err, file: this.file }, 'queue catalogue change refused; keeping the previous one');
    }
  }

  /**
   * Watches the folder, not the file: a Kubernetes ConfigMap update swaps a symlink, which a
   * watch on the old file would never see.
   */
  watch(): void {
    let timer: NodeJS.Timeout | undefined;
    this.watcher = watch(dirname(this.file), () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.reload(), 200);
    });
  }

  close(): void {
    this.watcher?.close();
  }
}
