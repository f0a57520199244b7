import { baseConfigSchema, databaseConfigSchema, loadConfig, port } from '@panda/platform';
import type { LoadConfigOptions } from '@panda/platform';
import { z } from 'zod';

const schema = baseConfigSchema.extend({
  ...databaseConfigSchema.shape,
  natsUrl: z.string().min(1),
  grpcHost: z.string().default('127.0.0.1'),
  grpcPort: port().default(0),
  /** host:port of the server's gRPC endpoint. */
  serverAddr: z.string().min(1),
  /** Extra retry rules (JSON list), tried before the defaults. */
  retryRulesFile: z.string().optional(),
  /** How often pending tasks are brokered again. */
  pendingEveryMs: z.coerce.number().int().positive().default(10_000),
});

export type JediConfig = z.infer<typeof schema>;

export const loadJediConfig = (options?: LoadConfigOptions): JediConfig => loadConfig(schema, options);
