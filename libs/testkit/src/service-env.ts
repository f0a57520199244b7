import type { ServiceName, StackAddresses } from './stack-file.js';

export interface ServiceEnvContext {
  ports: Record<ServiceName, number>;
  addresses: StackAddresses;
  pgUrl: string;
  natsUrl: string;
  queuesFile: string;
  workDir: string;
  cycleMs: number;
}

/** Environment of one service: only PANDA_* variables, as in docs/architecture.md. */
export function environmentOf(
  service: ServiceName,
  ctx: {
    ports: Record<ServiceName, number>;
    addresses: StackAddresses;
    pgUrl: string;
    natsUrl: string;
    queuesFile: string;
    workDir: string;
    cycleMs: number;
  },
): Record<string, string> {
  const { ports, addresses: a, pgUrl, natsUrl } = ctx;
  const port = String(ports[service]);
  switch (service) {
    case 'server':
      return {
        PANDA_DATABASE_URL: pgUrl,
        PANDA_NATS_URL: natsUrl,
        PANDA_GRPC_PORT: port,
        PANDA_QUEUES_FILE: ctx.queuesFile,
      };
    case 'jedi':
      return {
        PANDA_DATABASE_URL: pgUrl,
        PANDA_NATS_URL: natsUrl,
        PANDA_GRPC_PORT: port,
        PANDA_SERVER_ADDR: a.serverAddr,
      };
    case 'idds':
      return {
        PANDA_DATABASE_URL: pgUrl,
        PANDA_NATS_URL: natsUrl,
        PANDA_GRPC_PORT: port,
        PANDA_JEDI_ADDR: a.jediAddr,
        PANDA_SERVER_ADDR: a.serverAddr,
      };
    case 'pilot-gateway':
      return { PANDA_HTTP_PORT: port, PANDA_SERVER_ADDR: a.serverAddr, PANDA_NATS_URL: natsUrl };
    case 'harvester':
      return {
        PANDA_DATABASE_URL: pgUrl,
        PANDA_NATS_URL: natsUrl,
        PANDA_GRPC_PORT: port,
        PANDA_SERVER_ADDR: a.serverAddr,
        PANDA_GATEWAY_URL: a.gatewayUrl,
        PANDA_QUEUES_FILE: ctx.queuesFile,
        PANDA_WORK_DIR: ctx.workDir,
        PANDA_CYCLE_MS: String(ctx.cycleMs),
      };
    case 'monitor':
      return {
        PANDA_HTTP_PORT: port,
        PANDA_IDDS_ADDR: a.iddsAddr,
        PANDA_SERVER_ADDR: a.serverAddr,
        PANDA_JEDI_ADDR: a.jediAddr,
        PANDA_HARVESTER_ADDR: a.harvesterAddr,
        PANDA_NATS_URL: natsUrl,
        // Read-only use: the monitor reads the services' schemas for its job/task/error pages.
        PANDA_MONITOR_DATABASE_URL: pgUrl,
        PANDA_GATEWAY_URL: a.gatewayUrl,
      };
  }
}

/** The parent's environment without PANDA_* (a developer's shell must not leak config in). */
export function baseEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PANDA_')) env[k] = v;
  return env;
}
