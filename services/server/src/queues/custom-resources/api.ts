import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { UnavailableError } from '@panda/platform';

/** The PandaQueue custom resource (CRD in charts/server/crds/pandaqueues.yaml). */
export const PANDAQUEUE = { group: 'panda.rubin.org', version: 'v1alpha1', plural: 'pandaqueues' } as const;

/** A PandaQueue as the API server returns it; the spec is checked by `parseQueue`. */
export interface PandaQueueObject {
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
  };
  spec?: unknown;
  status?: { observedGeneration?: number; conditions?: Condition[]; [key: string]: unknown };
}

/** A status condition (the CRD's `status.conditions[]`). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** The calls the watcher makes; tests pass a fake. */
export interface PandaQueueApi {
  /** Every PandaQueue of the namespace and the list's resourceVersion (where a watch starts). */
  list(
    namespace: string,
    signal: AbortSignal,
  ): Promise<{ items: PandaQueueObject[]; resourceVersion: string }>;
  /**
   * Streams changes after `resourceVersion` to `onEvent`. Resolves when the server ends the
   * watch (or `signal` aborts), rejects on a failed connection or an ERROR event (410 Gone).
   */
  watch(
    namespace: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, object: PandaQueueObject) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** JSON merge patch of the status subresource. */
  patchStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void>;
}

/** kubeconfig file, or the in-cluster service account when none is given. */
export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

/** The PandaQueue calls over @kubernetes/client-node. */
export function kubePandaQueueApi(kc: KubeConfig, watchTimeoutS = 300): PandaQueueApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  const watcher = new Watch(kc);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    async list(namespace, signal) {
      const res = (await abortable(api.listNamespacedCustomObject({ ...PANDAQUEUE, namespace }), signal)) as {
        items?: PandaQueueObject[];
        metadata?: { resourceVersion?: string };
      };
      return { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    watch(namespace, resourceVersion, onEvent, signal) {
      const path = `/apis/${PANDAQUEUE.group}/${PANDAQUEUE.version}/namespaces/${namespace}/${PANDAQUEUE.plural}`;
      return new Promise<void>((resolve, reject) => {
        let failed: Error | undefined;
        let controller: AbortController | undefined;
        const stop = () => controller?.abort();
        signal.addEventListener('abort', stop, { once: true });
        const finish = (err: unknown) => {
          signal.removeEventListener('abort', stop);
          if (signal.aborted) return resolve();
          const error = failed ?? (err ? asError(err) : undefined);
          if (error) reject(error);
          else resolve();
        };
        watcher
          .watch(
            path,
            { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutS },
            (type: string, object: unknown) => {
              if (type === 'ERROR') {
                const status = object as { code?: number; message?: string };
                failed = new UnavailableError(`watch error ${status.code ?? '?'}: ${status.message ?? ''}`);
                controller?.abort();
              } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
                onEvent(type, object as PandaQueueObject);
              }
            },
            finish,
          )
          .then((c) => {
            controller = c;
            if (signal.aborted) c.abort();
          })
          .catch(finish);
      });
    },
    async patchStatus(namespace, name, status) {
      await api.patchNamespacedCustomObjectStatus(
        { ...PANDAQUEUE, namespace, name, body: { status } },
        mergePatch,
      );
    },
  };
}

/** A short description of a Kubernetes API failure. */
export function describeKubeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return `HTTP ${err.code}: ${text.slice(0, 300)}`;
  }
  return asError(err).message;
}

function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  const e = err as { statusCode?: number; message?: string };
  return new UnavailableError(e.message ?? `HTTP ${e.statusCode ?? '?'}`);
}

/** Rejects as soon as `signal` aborts (the request itself is left to finish). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(err));
      },
    );
  });
}
