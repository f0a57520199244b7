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
});

export type ServerConfig = z.infer<typeof schema>;

export const loadServerConfig = (options?: LoadConfigOptions): ServerConfig => loadConfig(schema, options);
