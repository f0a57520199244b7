import { createGrpcClient, createLogger, openChannel, Shutdown } from '@panda/platform';
import { DispatchServiceDefinition } from '@panda/proto';
import { loadGatewayConfig } from './config.js';
import { buildApp } from './http/app.js';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ service: 'pilot-gateway', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();

  const channel = openChannel(config.serverAddr);
  const dispatch = createGrpcClient(DispatchServiceDefinition, channel, {
    deadlineMs: config.grpcDeadlineMs,
  });
  const app = buildApp({ dispatch, logger });

  // Stop taking requests and let running ones finish, then drop the channel.
  shutdown.add('http server', () => app.close());
  shutdown.add('grpc channel', () => channel.close());

  await app.listen({ port: config.httpPort, host: config.httpHost });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  logger.info(
    { url: `http://${config.httpHost}:${port}`, port, serverAddr: config.serverAddr },
    'pilot-gateway listening',
  );
}

main().catch((err: unknown) => {
  console.error('pilot-gateway failed to start:', err);
  process.exit(1);
});
