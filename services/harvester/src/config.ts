import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseConfigSchema, databaseConfigSchema, loadConfig, port } from '@panda/platform';
import type { LoadConfigOptions } from '@panda/platform';
import { z } from 'zod';

/** `node <services/pilot/dist/main.js>`, found next to this service's own dist folder. */
export function defaultPilotCommand(): string {
  const pilotMain = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pilot', 'dist', 'main.js');
  return `${shellQuote(process.execPath)} ${shellQuote(pilotMain)}`;
}

export const shellQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

const schema = baseConfigSchema.extend({
  ...databaseConfigSchema.shape,
  natsUrl: z.string().min(1),
  grpcHost: z.string().min(1).default('127.0.0.1'),
  grpcPort: port().default(0),
  /** host:port of server's QueueService. */
  serverAddr: z.string().min(1),
  /** Passed to pilots as PANDA_PILOT_GATEWAY_URL. */
  gatewayUrl: z.string().url(),
  /** Local pilots run in `<workDir>/workers/<workerId>`. */
  workDir: z.string().min(1),
  cycleMs: z.coerce.number().int().positive().default(10_000),
  /** Shell command that starts a pilot (run with `sh -c`, in its own process group). */
  pilotCommand: z.string().min(1).default(defaultPilotCommand()),
  /** Pilot heartbeat period; the original's 1800 s is too slow for a local setup. */
  pilotHeartbeatS: z.coerce.number().positive().default(60),
  /** Cap on active (submitted, running, idle) workers over all queues. */
  maxWorkersTotal: z.coerce.number().int().min(0).default(8),
  /** At shutdown, how long local pilots get to report and exit after SIGTERM. */
  pilotStopTimeoutMs: z.coerce.number().int().positive().default(7_000),
  grpcDeadlineMs: z.coerce.number().int().positive().default(10_000),
  /** Batch systems this harvester serves, comma-separated: local, slurm, kubernetes. */
  submitters: z
    .string()
    .default('local')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['local', 'slurm', 'kubernetes'])).min(1)),
  /** kubernetes: kubeconfig file; without it the in-cluster service account is used. */
  kubeconfig: z.string().min(1).optional(),
  /** kubernetes: namespace of the worker Jobs. */
  kubeNamespace: z.string().min(1).default('default'),
  /**
   * kubernetes: a v1 Pod (YAML) every worker's pod is laid over (service account, security
   * context, image, volumes, node selector...); see plugins/kubernetes/pod-template.ts.
   */
  k8sPodTemplateFile: z.string().min(1).optional(),
  /**
   * Queues may come from PandaQueue resources (server watches them): harvester then writes
   * their status counters (jobs, workers) through the API (PANDA_KUBECONFIG or in-cluster).
   */
  queuesCrd: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Accepted for a shared environment; the namespace comes with each queue from server. */
  queuesCrdNamespace: z.string().optional(),
  /**
   * HMAC secret of pilot tokens, shared with pilot-gateway (which verifies them); when set,
   * every worker gets its own token (PANDA_PILOT_TOKEN). At least 16 characters.
   */
  pilotTokenSecret: z.string().min(16).optional(),
  /**
   * A worker's token is valid for the queue's maxtime plus this margin (seconds), which must
   * cover the time a worker may wait in the batch system before it starts.
   */
  pilotTokenMarginS: z.coerce
    .number()
    .int()
    .min(0)
    .default(6 * 3600),
  /** Prometheus metrics on `GET /metrics` at this port (0: a free port, logged); unset: off. */
  metricsPort: port().optional(),
  metricsHost: z.string().min(1).default('127.0.0.1'),
  /** Accepted for a shared environment but unused: queues come from server's QueueService. */
  queuesFile: z.string().optional(),
});

export type HarvesterConfig = z.infer<typeof schema>;

export const loadHarvesterConfig = (options?: LoadConfigOptions): HarvesterConfig =>
  loadConfig(schema, options);

/**
 * The environment pilots start from: this process's, without the `PANDA_*` settings of the
 * harvester itself (database URL and the like are none of a pilot's or payload's business).
 */
export function pilotBaseEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('PANDA_')));
}
