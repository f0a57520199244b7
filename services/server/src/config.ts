import { baseConfigSchema, databaseConfigSchema, loadConfig, port } from '@panda/platform';
import type { LoadConfigOptions } from '@panda/platform';
import { z } from 'zod';

const schema = baseConfigSchema.extend({
  ...databaseConfigSchema.shape,
  natsUrl: z.string().min(1),
  grpcHost: z.string().default('127.0.0.1'),
  grpcPort: port().default(0),
  queuesFile: z.string().min(1),
  /** How often the heartbeat watchdog sweeps. */
  watchdogEveryMs: z.coerce.number().int().positive().default(60_000),
  /** Watch PandaQueue custom resources (they lie over the catalogue file's entries). */
  queuesCrd: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Namespace of the PandaQueues watched. */
  queuesCrdNamespace: z.string().min(1).default('default'),
  /** kubeconfig file for the PandaQueue watch; without it the in-cluster service account is used. */
  kubeconfig: z.string().min(1).optional(),
  /** At start, how long to wait for the first PandaQueue list before serving with the file alone. */
  queuesCrdSyncTimeoutMs: z.coerce.number().int().min(0).default(10_000),
});

export type ServerConfig = z.infer<typeof schema>;

export const loadServerConfig = (options?: LoadConfigOptions): ServerConfig => loadConfig(schema, options);
