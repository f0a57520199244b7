import { baseConfigSchema, ConfigError, loadConfig, port } from '@panda/platform';
import type { LoadConfigOptions } from '@panda/platform';
import { z } from 'zod';

const flag = () =>
  z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1');

const schema = baseConfigSchema.extend({
  /** 0 picks a free port; the bound one is logged. */
  httpPort: port().default(0),
  httpHost: z.string().min(1).default('127.0.0.1'),
  /** host:port of server's DispatchService. */
  serverAddr: z.string().min(1),
  /** Needed for real-time logs, the log archive and push mode; without it those answer 503. */
  natsUrl: z.string().min(1).optional(),
  /** Deadline of each gRPC call to the server, in ms. */
  grpcDeadlineMs: z.coerce.number().int().positive().default(30_000),
  /** HMAC secret of pilot tokens (shared with harvester, which issues them). */
  pilotTokenSecret: z.string().min(16).optional(),
  /** Refuse pilot calls without a valid token (needs pilotTokenSecret). */
  requireToken: flag(),
  /** Longest log message, in characters; a longer one is refused with 413. */
  logMaxLineChars: z.coerce.number().int().positive().default(16_384),
  /** Most records per POST /logs/v1/records. */
  logMaxRecords: z.coerce.number().int().positive().default(1000),
  /** Age and size limits of the PANDA_LOGS stream. */
  logMaxAgeS: z.coerce
    .number()
    .positive()
    .default(7 * 24 * 3600),
  logMaxBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 ** 3),
  /** Largest file of a job's log archive, and the archive bucket's limits. */
  archiveMaxFileBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024 ** 2),
  archiveMaxAgeS: z.coerce
    .number()
    .positive()
    .default(30 * 24 * 3600),
  archiveMaxBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 ** 3),
  /** Push mode: a waiting getJob also asks the server this often, in case an event was missed. */
  pushFallbackPollMs: z.coerce.number().int().positive().default(5000),
  /** Most gRPC calls to the server at once (getJob asks, update batches, bulk calls). */
  serverMaxInFlight: z.coerce.number().int().positive().default(16),
  /**
   * Most pilot requests waiting at the gateway for the server (for a call slot or for their
   * update batch); beyond that a request is refused with 503 and Retry-After.
   */
  serverMaxQueued: z.coerce.number().int().positive().default(4000),
  /** Seconds a refused pilot is told to wait (Retry-After). */
  overloadRetryAfterS: z.coerce.number().int().min(1).max(3600).default(2),
  /** updateJob calls go to the server in UpdateJobs batches of at most this many... */
  updateBatchMax: z.coerce.number().int().min(1).max(10_000).default(200),
  /** ...sent this many ms after the batch's first update at the latest. */
  updateBatchWindowMs: z.coerce.number().int().min(0).max(1000).default(5),
});

export type GatewayConfig = z.infer<typeof schema>;

export const loadGatewayConfig = (options?: LoadConfigOptions): GatewayConfig => {
  const config = loadConfig(schema, options);
  if (config.requireToken && !config.pilotTokenSecret) {
    throw new ConfigError('PANDA_REQUIRE_TOKEN=true needs PANDA_PILOT_TOKEN_SECRET (at least 16 characters)');
  }
  if (config.serverMaxQueued < config.updateBatchMax) {
    throw new ConfigError(
      `PANDA_SERVER_MAX_QUEUED (${config.serverMaxQueued}) must be at least PANDA_UPDATE_BATCH_MAX ` +
        `(${config.updateBatchMax}): a batch's updates wait in that queue`,
    );
  }
  return config;
};
