import {
  closeBus,
  connectBus,
  createGrpcClient,
  createLogger,
  openChannel,
  runService,
  Shutdown,
} from '@panda/platform';
import { JobServiceDefinition, QueueServiceDefinition, WorkflowServiceDefinition } from '@panda/proto';
import type { MonitorBackends } from './backends.js';
import { ErrorCatalogue } from './catalogue/catalogue.js';
import { loadMonitorConfig } from './config.js';
import { openReadDb } from './db/connection.js';
import { buildMonitorServer } from './http/server.js';
import { LiveHub } from './live/hub.js';
import { startLiveFeed } from './live/nats.js';
import { JetStreamJobLogs } from './logs/job-log.js';

async function main(): Promise<void> {
  const config = loadMonitorConfig();
  const logger = createLogger({ service: 'monitor', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();
  const grpcOptions = { deadlineMs: config.grpcDeadlineMs };

  // Steps run in the order added; what pages read from is closed after the HTTP server (below).
  const closers: [string, () => unknown][] = [];
  const iddsChannel = openChannel(config.iddsAddr);
  closers.push(['idds channel', () => iddsChannel.close()]);
  const backends: MonitorBackends = {
    idds: {
      client: createGrpcClient(WorkflowServiceDefinition, iddsChannel, grpcOptions),
      address: config.iddsAddr,
    },
    gatewayUrl: config.gatewayUrl,
  };
  if (config.serverAddr) {
    const serverChannel = openChannel(config.serverAddr);
    closers.push(['server channel', () => serverChannel.close()]);
    backends.queues = {
      client: createGrpcClient(QueueServiceDefinition, serverChannel, grpcOptions),
      address: config.serverAddr,
    };
    backends.catalogue = new ErrorCatalogue(
      createGrpcClient(JobServiceDefinition, serverChannel, grpcOptions),
    );
  }
  if (config.monitorDatabaseUrl) {
    const db = await openReadDb(config.monitorDatabaseUrl, config.monitorStatementTimeoutMs);
    closers.unshift(['database', () => db.close()]);
    backends.db = db.sql;
  } else {
    logger.warn('PANDA_MONITOR_DATABASE_URL is not set: only the workflow pages work');
  }
  if (config.natsUrl) {
    const bus = await connectBus({ url: config.natsUrl, name: 'monitor', logger });
    closers.unshift(['nats', () => closeBus(bus)]);
    const hub = new LiveHub();
    closers.unshift(['live feed', startLiveFeed(bus, hub, logger)]);
    const logs = new JetStreamJobLogs(bus.js);
    closers.unshift(['log tails', () => logs.close()]);
    shutdown.add('live streams', () => hub.close());
    backends.live = hub;
    backends.logs = logs;
  }

  const app = buildMonitorServer({ ...backends, logger });
  shutdown.add('http server', () => app.close());
  for (const [name, close] of closers) shutdown.add(name, async () => void (await close()));
  const address = await app.listen({ host: config.httpHost, port: config.httpPort });
  logger.info(
    { address, iddsAddr: config.iddsAddr, db: Boolean(backends.db), live: Boolean(backends.live) },
    `monitor listening on ${address}`,
  );
}

runService('monitor', main);
