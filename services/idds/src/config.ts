import { baseConfigSchema, databaseConfigSchema, loadConfig, port } from '@panda/platform';
import type { LoadConfigOptions } from '@panda/platform';
import { z } from 'zod';

const schema = baseConfigSchema.extend({
  ...databaseConfigSchema.shape,
  natsUrl: z.string().min(1),
  grpcHost: z.string().default('127.0.0.1'),
  grpcPort: port().default(0),
  jediAddr: z.string().min(1),
  serverAddr: z.string().min(1),
  /** BPS splits a label into chunks above this many jobs (30000 in the original's code). */
  maxJobsPerTask: z.coerce.number().int().positive().default(30_000),
  defaultMaxAttempts: z.coerce.number().int().positive().default(3),
  /** How often workflows left in New are re-activated. */
  resumeEveryMs: z.coerce.number().int().positive().default(10_000),
});

export type IddsConfig = z.infer<typeof schema>;

export const loadIddsConfig = (options?: LoadConfigOptions): IddsConfig => loadConfig(schema, options);
