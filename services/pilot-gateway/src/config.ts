import { baseConfigSchema, loadConfig, port } from '@panda/platform';
import type { LoadConfigOptions } from '@panda/platform';
import { z } from 'zod';

const schema = baseConfigSchema.extend({
  /** 0 picks a free port; the bound one is logged. */
  httpPort: port().default(0),
  httpHost: z.string().min(1).default('127.0.0.1'),
  /** host:port of server's DispatchService. */
  serverAddr: z.string().min(1),
  /** Not used yet (kept so a shared environment can set it). */
  natsUrl: z.string().min(1).optional(),
  /** Deadline of each gRPC call to the server, in ms. */
  grpcDeadlineMs: z.coerce.number().int().positive().default(30_000),
});

export type GatewayConfig = z.infer<typeof schema>;

export const loadGatewayConfig = (options?: LoadConfigOptions): GatewayConfig => loadConfig(schema, options);
