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
  /**
   * A node with at least this many children that have it as their only parent is a gate:
   * those children are staged (their jobs made at submission, `defined` until the gate
   * finishes), so a wide fan-out starts in one statement. 0 turns staging off.
   */
  stageFanoutMin: z.coerce.number().int().nonnegative().default(1000),
  /** How often workflows left in New are re-activated. */
  resumeEveryMs: z.coerce.number().int().positive().default(10_000),
});

export type IddsConfig = z.infer<typeof schema>;

export const loadIddsConfig = (options?: LoadConfigOptions): IddsConfig => loadConfig(schema, options);
