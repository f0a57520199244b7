import {
  closeBus,
  connectBus,
  createGrpcClient,
  createLogger,
  openChannel,
  runService,
  Shutdown,
} from '@panda/platform';
import type { Bus } from '@panda/platform';
import { DispatchServiceDefinition } from '@panda/proto';
import { loadGatewayConfig } from './config.js';
import { buildApp } from './http/app.js';
import { LogStore } from './logs/store.js';
import { subscribeActivations } from './push/activations.js';
import { QueueWaiters } from './push/waiters.js';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ service: 'pilot-gateway', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();

  const channel = openChannel(config.serverAddr);
  const dispatch = createGrpcClient(DispatchServiceDefinition, channel, {
    deadlineMs: config.grpcDeadlineMs,
  });

  // NATS carries real-time logs, the log archive and the activations that wake waiting pilots.
  let bus: Bus | undefined;
  let logStore: LogStore | undefined;
  let waiters: QueueWaiters | undefined;
  if (config.natsUrl) {
    const b = await connectBus({ url: config.natsUrl, name: 'pilot-gateway', logger });
    bus = b;
    logStore = await LogStore.open(b, {
      logMaxAgeMs: config.logMaxAgeS * 1000,
      logMaxBytes: config.logMaxBytes,
      archiveMaxAgeMs: config.archiveMaxAgeS * 1000,
      archiveMaxBytes: config.archiveMaxBytes,
    });
    waiters = new QueueWaiters();
    subscribeActivations(b.nc, waiters, logger);
  } else {
    logger.warn('no PANDA_NATS_URL: real-time logs, log archives and push mode are off');
  }

  const app = buildApp({
    dispatch,
    logger,
    logStore,
    waiters,
    auth: { secret: config.pilotTokenSecret, required: config.requireToken },
    limits: config,
    processMetrics: true,
  });

  // Stop taking requests and let running ones finish, then drop the channel and NATS.
  shutdown.add('held getJob calls', () => waiters?.close());
  shutdown.add('http server', () => app.close());
  shutdown.add('grpc channel', () => channel.close());
  if (bus) {
    const b = bus;
    shutdown.add('nats', () => closeBus(b));
  }

  await app.listen({ port: config.httpPort, host: config.httpHost });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  logger.info(
    {
      url: `http://${config.httpHost}:${port}`,
      port,
      serverAddr: config.serverAddr,
      logs: bus !== undefined,
      tokens: config.pilotTokenSecret ? (config.requireToken ? 'required' : 'checked if sent') : 'off',
      serverMaxInFlight: config.serverMaxInFlight,
      serverMaxQueued: config.serverMaxQueued,
      updateBatch: { max: config.updateBatchMax, windowMs: config.updateBatchWindowMs },
    },
    'pilot-gateway listening',
  );
}

runService('pilot-gateway', main);
