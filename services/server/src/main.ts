import {
  addHealthServer,
  closeBus,
  connectBus,
  createGrpcServer,
  createLogger,
  Database,
  ensureEventsStream,
  EventConsumer,
  listenGrpc,
  Outbox,
  runService,
  Shutdown,
  stopGrpcServer,
} from '@panda/platform';
import {
  DispatchServiceDefinition,
  JobServiceDefinition,
  QueueServiceDefinition,
  WorkerChanged,
} from '@panda/proto';
import { loadServerConfig } from './config.js';
import { migrations, SCHEMA } from './db/migrations.js';
import { dispatchService, jobService, queueService } from './grpc/handlers.js';
import { GateActivator } from './jobs/gate-activation.js';
import { JobCommands } from './jobs/job-commands.js';
import { JobQueries } from './jobs/job-queries.js';
import { JobStore } from './jobs/job-store.js';
import { ENDED_WORKER_STATES, onWorkerEnded } from './jobs/on-worker-ended.js';
import { Watchdog } from './jobs/watchdog.js';
import { QueueCatalogue } from './queues/catalogue.js';
import { kubePandaQueueApi, loadKubeConfig } from './queues/custom-resources/api.js';
import { PandaQueueWatcher } from './queues/custom-resources/watcher.js';

/** How often gates left open (a drain cut short by a stop) are drained again. */
const GATE_SWEEP_MS = 10_000;

async function main(): Promise<void> {
  const config = loadServerConfig();
  const logger = createLogger({ service: 'server', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();

  const catalogue = new QueueCatalogue(config.queuesFile, logger);
  catalogue.watch();
  // PandaQueues: listed before serving (up to a timeout), then watched until shutdown.
  let pandaQueues: Promise<void> | undefined;
  if (config.queuesCrd) {
    const watcher = new PandaQueueWatcher({
      api: kubePandaQueueApi(loadKubeConfig(config.kubeconfig)),
      namespace: config.queuesCrdNamespace,
      catalogue,
      logger,
    });
    pandaQueues = watcher.run(shutdown.signal);
    if (!(await watcher.waitSynced(config.queuesCrdSyncTimeoutMs)))
      logger.warn(
        { namespace: config.queuesCrdNamespace },
        'PandaQueues not listed yet; serving the file catalogue',
      );
  }
  const db = await Database.connect({ url: config.databaseUrl, schema: SCHEMA, migrations, poolSize: 20 });
  if (config.migrateOnStart) await db.migrate(logger);
  const bus = await connectBus({ url: config.natsUrl, name: 'server', logger });
  await ensureEventsStream(bus.jsm);
  const outbox = new Outbox(db, bus.js, logger);

  const store = new JobStore(outbox);
  const gates = new GateActivator(outbox, logger);
  const queries = new JobQueries(db);
  const server = createGrpcServer(logger);
  server.add(JobServiceDefinition, jobService(store, gates, new JobCommands(outbox), queries, catalogue));
  server.add(DispatchServiceDefinition, dispatchService(store, catalogue));
  server.add(QueueServiceDefinition, queueService(queries, catalogue));

  const consumers = ENDED_WORKER_STATES.map(
    (state) =>
      new EventConsumer({
        db,
        js: bus.js,
        jsm: bus.jsm,
        logger,
        durable: `server-worker-${state}`,
        filterSubject: `panda.worker.${state}`,
        decoder: WorkerChanged,
        handle: onWorkerEnded(outbox),
        afterCommit: () => outbox.kick(),
      }),
  );
  outbox.start(shutdown.signal);
  for (const c of consumers) await c.start();
  const watchdog = new Watchdog(outbox, catalogue, logger).run(config.watchdogEveryMs, shutdown.signal);
  const gateDrains = gates.run(GATE_SWEEP_MS, shutdown.signal);
  const port = await listenGrpc(server, config.grpcHost, config.grpcPort);
  logger.info({ port, queues: catalogue.list().length }, 'server listening');
  await addHealthServer(shutdown, config, { db, bus });

  shutdown.add('grpc', (signal) => stopGrpcServer(server, signal));
  shutdown.add('consumers', async () => {
    await Promise.all(consumers.map((c) => c.stop()));
  });
  shutdown.add('watchdog', () => watchdog);
  shutdown.add('gates', () => gateDrains);
  shutdown.add('outbox', () => outbox.stopped());
  shutdown.add('catalogue', async () => {
    catalogue.close();
    await pandaQueues;
  });
  shutdown.add('nats', () => closeBus(bus));
  shutdown.add('database', () => db.close());
}

runService('server', main, { schema: SCHEMA, migrations });
