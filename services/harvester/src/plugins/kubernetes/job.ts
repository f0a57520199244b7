import type {
  V1EnvVar,
  V1Job,
  V1Pod,
  V1PodTemplateSpec,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { JOB_FILE } from '../push-file.js';
import { mergePodTemplate } from './pod-template.js';

/** The pilot image when neither the queue's params nor the pod template name one. */
export const DEFAULT_PILOT_IMAGE = 'panda/pilot:latest';

/** Where a push worker's job ConfigMap is mounted in the pilot container. */
export const JOB_MOUNT_PATH = '/etc/panda/job';

/** The queue's `harvester.params` for a Kubernetes queue. */
export const kubeParamsSchema = z.object({
  /** Pilot image; default the pod template's, else DEFAULT_PILOT_IMAGE. */
  image: z.string().min(1).optional(),
  /**
   * Container command; default the pod template's (none: the image's entrypoint), or without a
   * template `['/bin/sh', '-c', <harvester's pilot command>]`.
   */
  command: z.array(z.string()).min(1).optional(),
  /** Secret holding the pilot's token, passed as PANDA_PILOT_TOKEN. */
  tokenSecret: z.object({ name: z.string().min(1), key: z.string().min(1).default('token') }).optional(),
  /** CPU request = cores x cpuSchedulingRatio/100 (reference default 90). */
  cpuSchedulingRatio: z.number().positive().max(100).default(90),
  /** Set a memory limit equal to the request ("K8s kills aggressively": off by default upstream). */
  useMemoryLimit: z.boolean().default(false),
  /** Finished Jobs are deleted by Kubernetes after this long (reference: 172800). */
  ttlSecondsAfterFinished: z.number().int().min(0).default(172_800),
  /** Extra pod labels. */
  labels: z.record(z.string(), z.string()).default({}),
});
export type KubeParams = z.infer<typeof kubeParamsSchema>;

export const QUEUE_LABEL = 'panda/queue';
export const WORKER_LABEL = 'panda/worker';

/** Job names are DNS labels: `panda-<workerId>` lower-cased, at most 63 characters. */
export function jobName(workerId: string): string {
  return `panda-${workerId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/** The per-worker Secret holding the worker's token (key `token`). */
export const tokenSecretName = (workerId: string): string => `${jobName(workerId).slice(0, 57)}-token`;

/** The per-worker ConfigMap holding a push worker's job (key pandaJobData.json). */
export const jobConfigMapName = (workerId: string): string => `${jobName(workerId).slice(0, 59)}-job`;

/** Label values: at most 63 of `[A-Za-z0-9_.-]`. */
export const labelValue = (v: string): string => v.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63);

/**
 * A worker's log URL until its pod is seen: the API path listing its pod by the worker label
 * (the pod's name is chosen by the Job controller; `kubectl -n <ns> logs -l panda/worker=<id>`).
 */
export const workerPodsPath = (namespace: string, workerId: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(
    `${WORKER_LABEL}=${labelValue(workerId)}`,
  )}`;

/** A pod's log as an API path (`kubectl get --raw <path>`, or `kubectl -n <ns> logs <pod>`). */
export const podLogPath = (namespace: string, pod: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`;

/**
 * The walltime a Job holds its pod to (s): the smaller of the Job's activeDeadlineSeconds and the
 * pod's (a pod template may set one); 0 = no deadline.
 */
export function jobWalltimeS(job: V1Job): number {
  const deadlines = [job.spec?.activeDeadlineSeconds, job.spec?.template.spec?.activeDeadlineSeconds].filter(
    (s): s is number => typeof s === 'number' && s > 0,
  );
  return deadlines.length ? Math.min(...deadlines) : 0;
}

export interface JobInput {
  workerId: string;
  queue: string;
  cores: number;
  memoryMb: number;
  walltimeS: number;
  params: KubeParams;
  /** Used when params.command is not set. */
  pilotCommand: string;
  env: Record<string, string>;
  /** The Secret with this worker's own token; wins over the queue's `params.tokenSecret`. */
  tokenSecret?: { name: string; key: string };
  /** Push mode: the ConfigMap holding the worker's job, mounted at JOB_MOUNT_PATH. */
  jobConfigMap?: string;
  /** PANDA_K8S_POD_TEMPLATE_FILE: the pod laid under the Job's (see mergePodTemplate). */
  podTemplate?: V1Pod;
}

/**
 * One batch/v1 Job per worker (reference §2): a single container, `backoffLimit: 0`,
 * `restartPolicy: Never`, CPU request cores x ratio and limit cores, memory request (limit
 * optional), labels `panda/queue` and `panda/worker`, `activeDeadlineSeconds` = the queue's
 * maxtime, `ttlSecondsAfterFinished`. A push worker's job comes in a ConfigMap mounted as a
 * file (reference §2: upstream mounts `pandaJobData.out` at /scratch/jobconfig), named by
 * PANDA_PILOT_JOB_FILE. With a pod template, harvester's pod is laid over it.
 */
export function buildJob(i: JobInput): V1Job {
  const name = jobName(i.workerId);
  const labels = {
    ...i.params.labels,
    [QUEUE_LABEL]: labelValue(i.queue),
    [WORKER_LABEL]: labelValue(i.workerId),
  };
  const env: V1EnvVar[] = Object.entries(i.env).map(([n, value]) => ({ name: n, value }));
  env.push({ name: 'K8S_JOB_ID', value: name });
  env.push({ name: 'PANDA_HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  const tokenSecret = i.tokenSecret ?? i.params.tokenSecret;
  if (tokenSecret) {
    env.push({
      name: 'PANDA_PILOT_TOKEN',
      valueFrom: { secretKeyRef: { name: tokenSecret.name, key: tokenSecret.key } },
    });
  }
  const volumes: V1Volume[] = [];
  const volumeMounts: V1VolumeMount[] = [];
  if (i.jobConfigMap) {
    volumes.push({ name: 'panda-job', configMap: { name: i.jobConfigMap } });
    volumeMounts.push({ name: 'panda-job', mountPath: JOB_MOUNT_PATH, readOnly: true });
    env.push({ name: 'PANDA_PILOT_JOB_FILE', value: `${JOB_MOUNT_PATH}/${JOB_FILE}` });
    env.push({ name: 'PANDA_PILOT_MAX_JOBS', value: '1' });
  }
  const cpuRequest = `${Math.max(Math.round(i.cores * i.params.cpuSchedulingRatio * 10), 1)}m`;
  const memory = `${Math.max(i.memoryMb, 4)}Mi`;
  const own: V1PodTemplateSpec = {
    metadata: { labels },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'pilot',
          image: i.params.image ?? (i.podTemplate ? undefined : DEFAULT_PILOT_IMAGE),
          command: i.params.command ?? (i.podTemplate ? undefined : ['/bin/sh', '-c', i.pilotCommand]),
          env,
          resources: {
            requests: { cpu: cpuRequest, memory },
            limits: { cpu: String(i.cores), ...(i.params.useMemoryLimit ? { memory } : {}) },
          },
          volumeMounts: volumeMounts.length ? volumeMounts : undefined,
        },
      ],
      volumes: volumes.length ? volumes : undefined,
    },
  };
  const template = i.podTemplate ? mergePodTemplate(i.podTemplate, own) : own;
  const container = template.spec!.containers[0]!;
  container.image ??= DEFAULT_PILOT_IMAGE;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: i.walltimeS > 0 ? i.walltimeS : undefined,
      ttlSecondsAfterFinished: i.params.ttlSecondsAfterFinished,
      template,
    },
  };
}
