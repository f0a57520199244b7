import { baseConfigSchema, loadConfig, port, url } from '@panda/platform';
import { z } from 'zod';

const hostPort = () =>
  z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:50051');

export const monitorConfigSchema = baseConfigSchema.extend({
  /** 0 picks a free port; the bound address is logged. */
  httpPort: port().default(0),
  httpHost: z.string().min(1).default('127.0.0.1'),
  iddsAddr: hostPort(),
  /** server: queue catalogue and error descriptions. */
  serverAddr: hostPort().optional(),
  jediAddr: hostPort().optional(),
  harvesterAddr: hostPort().optional(),
  /** Live updates from `panda.>` and the live log tail (PANDA_LOGS); without it pages refresh themselves. */
  natsUrl: url().optional(),
  /** Read-only URL of the database holding the server, jedi, idds and harvester schemas. */
  monitorDatabaseUrl: url().optional(),
  /** Statement timeout of the monitor's queries, in ms. */
  monitorStatementTimeoutMs: z.coerce.number().int().positive().default(10_000),
  /** pilot-gateway base URL, for job log links. */
  gatewayUrl: url().optional(),
  /** Deadline of each gRPC call made to render a page, in ms. */
  grpcDeadlineMs: z.coerce.number().int().positive().default(5_000),
});

export type MonitorConfig = z.infer<typeof monitorConfigSchema>;

/** Parses the monitor's configuration once, at start-up. */
export function loadMonitorConfig(env: NodeJS.ProcessEnv = process.env): MonitorConfig {
  return loadConfig(monitorConfigSchema, { env });
}
