import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import { z } from 'zod';

/** The queue's `harvester.params` for a Kubernetes queue. */
export const kubeParamsSchema = z.object({
  /** Pilot image. */
  image: z.string().min(1).default('panda/pilot:latest'),
  /** Container command; default `['/bin/sh', '-c', <harvester's pilot command>]`. */
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

/** Label values: at most 63 of `[A-Za-z0-9_.-]`. */
export const labelValue = (v: string): string => v.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63);

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
}

/**
 * One batch/v1 Job per worker (reference §2): a single container, `backoffLimit: 0`,
 * `restartPolicy: Never`, CPU request cores x ratio and limit cores, memory request (limit
 * optional), labels `panda/queue` and `panda/worker`, `activeDeadlineSeconds` = the queue's
 * maxtime, `ttlSecondsAfterFinished`.
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
  const cpuRequest = `${Math.max(Math.round(i.cores * i.params.cpuSchedulingRatio * 10), 1)}m`;
  const memory = `${Math.max(i.memoryMb, 4)}Mi`;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: i.walltimeS > 0 ? i.walltimeS : undefined,
      ttlSecondsAfterFinished: i.params.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'pilot',
              image: i.params.image,
              command: i.params.command ?? ['/bin/sh', '-c', i.pilotCommand],
              env,
              resources: {
                requests: { cpu: cpuRequest, memory },
                limits: { cpu: String(i.cores), ...(i.params.useMemoryLimit ? { memory } : {}) },
              },
            },
          ],
        },
      },
    },
  };
}
