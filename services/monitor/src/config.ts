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
  // Configured for the views that come next; not used yet.
  serverAddr: hostPort().optional(),
  jediAddr: hostPort().optional(),
  harvesterAddr: hostPort().optional(),
  natsUrl: url().optional(),
  /** Deadline of each gRPC call made to render a page, in ms. */
  grpcDeadlineMs: z.coerce.number().int().positive().default(5_000),
});

export type MonitorConfig = z.infer<typeof monitorConfigSchema>;

/** Parses the monitor's configuration once, at start-up. */
export function loadMonitorConfig(env: NodeJS.ProcessEnv = process.env): MonitorConfig {
  return loadConfig(monitorConfigSchema, { env });
}
