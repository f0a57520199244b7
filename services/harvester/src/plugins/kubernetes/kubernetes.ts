import { ApiException, BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { JOB_FILE } from '../push-file.js';
import type { Logger } from '@panda/platform';
import { chunks } from '../run.js';
import type { SubmitResult, SubmitterPlugin, WorkerRef, WorkerSpec, WorkerStatus } from '../types.js';
import {
  buildJob,
  jobConfigMapName,
  jobName,
  jobWalltimeS,
  kubeParamsSchema,
  labelValue,
  podLogPath,
  QUEUE_LABEL,
  tokenSecretName,
  WORKER_LABEL,
  workerPodsPath,
} from './job.js';
import { loadKubeConfig } from './kube-config.js';
import { kubeWorkerState } from './states.js';

export interface KubernetesSubmitterOptions {
  /** kubeconfig file; undefined = in-cluster service account. */
  kubeconfig?: string;
  namespace: string;
  /** Pilot command when the queue's params give no container command. */
  command: string;
  gatewayUrl: string;
  heartbeatS: number;
  logger: Logger;
  /** Workers per label-selector list call. */
  chunkSize?: number;
  /** PANDA_K8S_POD_TEMPLATE_FILE, loaded: the pod every worker's pod is laid over. */
  podTemplate?: V1Pod;
}

/** The worker's Job could not be created. */
export class KubeSubmitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeSubmitError';
  }
}

/**
 * Kubernetes submitter, monitor and sweeper with @kubernetes/client-node: one batch/v1 Job per
 * worker; status from its Pod and Job, listed by the `panda/worker in (...)` label selector in
 * chunks; kill and sweep delete the Job with its Pods (background propagation, grace 0), its
 * token Secret and (push mode) its job ConfigMap. A worker's log URL is an API path: its pod
 * list by label at submission, the pod's log (`/api/v1/namespaces/<ns>/pods/<pod>/log`) once
 * check has seen the pod; it is readable while the pod exists (until the worker's end is
 * recorded and its Job deleted).
 */
export class KubernetesSubmitter implements SubmitterPlugin {
  readonly name = 'kubernetes';
  /** Finished Jobs are deleted as soon as their end is recorded. */
  readonly sweepOnEnd = true;
  /** Push mode: the job goes to the pod in a per-worker ConfigMap, mounted as a file. */
  readonly supportsPush = true;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;

  constructor(private readonly o: KubernetesSubmitterOptions) {
    const kc = loadKubeConfig(o.kubeconfig);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async submit(spec: WorkerSpec): Promise<SubmitResult> {
    const params = kubeParamsSchema.parse(spec.params);
    const tokenSecret = spec.token ? await this.createTokenSecret(spec, spec.token) : undefined;
    let jobConfigMap: string | undefined;
    try {
      jobConfigMap = spec.job ? await this.createJobConfigMap(spec, spec.job.json) : undefined;
    } catch (err) {
      if (tokenSecret) await this.deleteTokenSecret(spec.workerId).catch(() => undefined);
      throw err;
    }
    const body = buildJob({
      workerId: spec.workerId,
      queue: spec.queue,
      cores: spec.cores,
      memoryMb: spec.memoryMb,
      walltimeS: spec.walltimeS,
      params,
      pilotCommand: this.o.command,
      env: {
        PANDA_PILOT_QUEUE: spec.queue,
        PANDA_PILOT_GATEWAY_URL: this.o.gatewayUrl,
        PANDA_PILOT_WORKER_ID: spec.workerId,
        PANDA_PILOT_HEARTBEAT_S: String(this.o.heartbeatS),
        PANDA_PILOT_MEMORY_MB: String(spec.memoryMb),
        PANDA_PILOT_CORES: String(spec.cores),
        ...spec.env,
      },
      tokenSecret,
      jobConfigMap,
      podTemplate: this.o.podTemplate,
    });
    try {
      const job = await this.batch.createNamespacedJob({ namespace: this.o.namespace, body });
      const batchId = job.metadata?.name ?? jobName(spec.workerId);
      this.o.logger.info({ workerId: spec.workerId, queue: spec.queue, batchId }, 'kubernetes job created');
      return {
        batchId,
        state: 'submitted',
        nativeStatus: 'Job created',
        walltimeS: jobWalltimeS(body),
        // The pod's name is not known yet: its list by label; check() gives the pod's log.
        logUrl: workerPodsPath(this.o.namespace, spec.workerId),
      };
    } catch (err) {
      if (tokenSecret) await this.deleteTokenSecret(spec.workerId).catch(() => undefined);
      if (jobConfigMap) await this.deleteJobConfigMap(spec.workerId).catch(() => undefined);
      throw new KubeSubmitError(`creating Job ${body.metadata?.name}: ${describe(err)}`);
    }
  }

  /**
   * The worker's token in its own Secret (created before the Job, so the pod never starts
   * without it; deleted with the Job by kill and sweep). Secrets, unlike a Job's spec, are
   * readable only with the rights to read Secrets.
   */
  private async createTokenSecret(spec: WorkerSpec, token: string): Promise<{ name: string; key: string }> {
    const name = tokenSecretName(spec.workerId);
    try {
      await this.core.createNamespacedSecret({
        namespace: this.o.namespace,
        body: {
          metadata: {
            name,
            labels: { [QUEUE_LABEL]: labelValue(spec.queue), [WORKER_LABEL]: labelValue(spec.workerId) },
          },
          type: 'Opaque',
          stringData: { token },
        },
      });
    } catch (err) {
      throw new KubeSubmitError(`creating Secret ${name}: ${describe(err)}`);
    }
    return { name, key: 'token' };
  }

  /**
   * Push mode: the job harvester acquired for the worker, as pandaJobData.json in a ConfigMap
   * the pod mounts (created before the Job; deleted with it by kill and sweep).
   */
  private async createJobConfigMap(spec: WorkerSpec, job: Record<string, unknown>): Promise<string> {
    const name = jobConfigMapName(spec.workerId);
    try {
      await this.core.createNamespacedConfigMap({
        namespace: this.o.namespace,
        body: {
          metadata: {
            name,
            labels: { [QUEUE_LABEL]: labelValue(spec.queue), [WORKER_LABEL]: labelValue(spec.workerId) },
          },
          data: { [JOB_FILE]: `${JSON.stringify(job)}\n` },
        },
      });
    } catch (err) {
      throw new KubeSubmitError(`creating ConfigMap ${name}: ${describe(err)}`);
    }
    return name;
  }

  private async deleteJobConfigMap(workerId: string): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({
        name: jobConfigMapName(workerId),
        namespace: this.o.namespace,
      });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return;
      throw err;
    }
  }

  private async deleteTokenSecret(workerId: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({
        name: tokenSecretName(workerId),
        namespace: this.o.namespace,
      });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return;
      throw err;
    }
  }

  async check(workers: WorkerRef[]): Promise<WorkerStatus[]> {
    const jobs = new Map<string, V1Job>();
    const pods = new Map<string, V1Pod>();
    for (const part of chunks(workers, this.o.chunkSize ?? 100)) {
      const labelSelector = `${WORKER_LABEL} in (${part.map((w) => labelValue(w.workerId)).join(',')})`;
      const [jobList, podList] = await Promise.all([
        this.batch.listNamespacedJob({ namespace: this.o.namespace, labelSelector }),
        this.core.listNamespacedPod({ namespace: this.o.namespace, labelSelector }),
      ]);
      for (const j of jobList.items) jobs.set(j.metadata?.labels?.[WORKER_LABEL] ?? '', j);
      for (const p of podList.items) pods.set(p.metadata?.labels?.[WORKER_LABEL] ?? '', p);
    }
    return workers.map((w) => {
      const key = labelValue(w.workerId);
      const pod = pods.get(key);
      const podName = pod?.metadata?.name;
      return {
        workerId: w.workerId,
        ...kubeWorkerState(jobs.get(key), pod),
        ...(podName ? { logUrl: podLogPath(this.o.namespace, podName) } : {}),
      };
    });
  }

  async kill(worker: WorkerRef): Promise<void> {
    await this.deleteJob(worker);
  }

  async sweep(worker: WorkerRef): Promise<void> {
    await this.deleteJob(worker);
  }

  /** Deletes the worker's Job (with its pods), token Secret and job ConfigMap, any of which may be gone. */
  private async deleteJob(worker: WorkerRef): Promise<void> {
    const name = worker.batchId || jobName(worker.workerId);
    try {
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.o.namespace,
        propagationPolicy: 'Background',
        gracePeriodSeconds: 0,
      });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
    await this.deleteTokenSecret(worker.workerId);
    await this.deleteJobConfigMap(worker.workerId);
  }
}

function describe(err: unknown): string {
  if (err instanceof ApiException) {
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
    return `HTTP ${err.code}: ${body.slice(0, 300)}`;
  }
  return (err as Error).message;
}
