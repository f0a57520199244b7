import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@panda/platform';
import type { QueueCounts } from '../agent/agent.js';

/** JSON merge patch of a PandaQueue's status subresource (tests pass a fake). */
export type PatchPandaQueueStatus = (
  namespace: string,
  name: string,
  status: Record<string, number>,
) => Promise<void>;

/** The PandaQueue status patch over @kubernetes/client-node. */
export function kubeStatusPatcher(kc: KubeConfig): PatchPandaQueueStatus {
  const api = kc.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return async (namespace, name, status) => {
    await api.patchNamespacedCustomObjectStatus(
      {
        group: 'panda.rubin.org',
        version: 'v1alpha1',
        plural: 'pandaqueues',
        namespace,
        name,
        body: { status },
      },
      mergePatch,
    );
  };
}

export interface QueueStatusReporterOptions {
  patch: PatchPandaQueueStatus;
  logger: Logger;
  /** Patch unchanged counts again after this long (a re-created resource gets them). */
  refreshMs?: number;
  now?: () => number;
}

/**
 * Writes the counters of each PandaQueue-defined queue into the resource's status after every
 * submitter step (`kubectl get pandaqueues` columns): activatedJobs, runningJobs (from server's
 * QueueStats), submittedWorkers and runningWorkers (running + idle, this harvester's). Harvester
 * owns these fields; server owns `conditions` and `observedGeneration`. Only changed counts are
 * patched; a failed patch is logged and retried at the next cycle.
 */
export class QueueStatusReporter {
  private readonly last = new Map<string, { json: string; at: number }>();

  constructor(private readonly o: QueueStatusReporterOptions) {}

  async report(rows: QueueCounts[]): Promise<void> {
    const now = this.o.now?.() ?? Date.now();
    const refreshMs = this.o.refreshMs ?? 60_000;
    for (const row of rows) {
      const resource = row.queue.resource;
      if (!resource?.name) continue;
      const status = {
        activatedJobs: row.activatedJobs,
        runningJobs: row.runningJobs,
        submittedWorkers: row.submittedWorkers,
        runningWorkers: row.runningWorkers,
      };
      const key = `${resource.namespace}/${resource.name}`;
      const json = JSON.stringify(status);
      const before = this.last.get(key);
      if (before?.json === json && now - before.at < refreshMs) continue;
      try {
        await this.o.patch(resource.namespace, resource.name, status);
        this.last.set(key, { json, at: now });
      } catch (err) {
        this.last.delete(key);
        const gone = err instanceof ApiException && err.code === 404;
        this.o.logger[gone ? 'debug' : 'warn'](
          { resource: key, queue: row.queue.name, err: describe(err) },
          'PandaQueue status not updated',
        );
      }
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}`;
  return err instanceof Error ? err.message : String(err);
}
