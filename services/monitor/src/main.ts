import { createGrpcClient, createLogger, openChannel, Shutdown } from '@panda/platform';
import { WorkflowServiceDefinition } from '@panda/proto';
import { loadMonitorConfig } from './config.js';
import { buildMonitorServer } from './http/server.js';

async function main(): Promise<void> {
  const config = loadMonitorConfig();
  const logger = createLogger({ service: 'monitor', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();

  const iddsChannel = openChannel(config.iddsAddr);
  const idds = createGrpcClient(WorkflowServiceDefinition, iddsChannel, {
    deadlineMs: config.grpcDeadlineMs,
  });
  const app = buildMonitorServer({ idds: { client: idds, address: config.iddsAddr }, logger });

  shutdown.add('http server', () => app.close());
  shutdown.add('grpc channels', () => iddsChannel.close());

  const address = await app.listen({ host: config.httpHost, port: config.httpPort });
  logger.info({ address, iddsAddr: config.iddsAddr }, `monitor listening on ${address}`);
}

main().catch((err: unknown) => {
  // Logging may not exist yet (bad configuration): write plainly to stderr.
  process.stderr.write(`monitor failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
