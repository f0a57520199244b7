import { hostname } from 'node:os';
import {
  addHealthServer,
  closeBus,
  connectBus,
  createGrpcClient,
  createGrpcServer,
  createLogger,
  Database,
  ensureEventsStream,
  listenGrpc,
  openChannel,
  Outbox,
  runService,
  Shutdown,
  stopGrpcServer,
} from '@panda/platform';
import { DispatchServiceDefinition, QueueServiceDefinition, WorkerServiceDefinition } from '@panda/proto';
import { HarvesterAgent } from './agent/agent.js';
import { CycleLoop } from './agent/loop.js';
import { JobPusher } from './agent/push.js';
import { loadHarvesterConfig, pilotBaseEnv } from './config.js';
import { workerService } from './grpc/worker-service.js';
import { harvesterMetrics, startMetricsServer } from './metrics/metrics.js';
import { loadKubeConfig } from './plugins/kubernetes/kube-config.js';
import { createPlugins } from './plugins/registry.js';
import { kubeStatusPatcher, QueueStatusReporter } from './queue-status/reporter.js';
import { tokenIssuer } from './tokens/issuer.js';
import { harvesterMigrations } from './workers/migrations.js';
import { WorkerStore } from './workers/store.js';

const SCHEMA = 'harvester';

async function main(): Promise<void> {
  const config = loadHarvesterConfig();
  const logger = createLogger({ service: 'harvester', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();

  const db = await Database.connect({
    url: config.databaseUrl,
    schema: SCHEMA,
    migrations: harvesterMigrations(SCHEMA),
    poolSize: 5,
  });
  if (config.migrateOnStart) await db.migrate(logger);
  const bus = await connectBus({ url: config.natsUrl, name: 'harvester', logger });
  await ensureEventsStream(bus.jsm);
  const outbox = new Outbox(db, bus.js, logger);
  outbox.start(shutdown.signal);

  const channel = openChannel(config.serverAddr);
  const queues = createGrpcClient(QueueServiceDefinition, channel, { deadlineMs: config.grpcDeadlineMs });
  const dispatch = createGrpcClient(DispatchServiceDefinition, channel, {
    deadlineMs: config.grpcDeadlineMs,
  });
  const store = new WorkerStore(db, outbox, logger);
  const metrics = harvesterMetrics(store);

  // A pilot that exits starts the next cycle early; the loop is built after the plugins.
  let onPilotExit = (): void => {};
  const plugins = createPlugins(config, pilotBaseEnv(), logger, () => onPilotExit());
  const statusReporter = config.queuesCrd
    ? new QueueStatusReporter({ patch: kubeStatusPatcher(loadKubeConfig(config.kubeconfig)), logger })
    : undefined;
  const agent = new HarvesterAgent({
    queues,
    store,
    plugins: plugins.all,
    logger,
    maxWorkersTotal: config.maxWorkersTotal,
    issueToken: config.pilotTokenSecret
      ? tokenIssuer({ secret: config.pilotTokenSecret, marginS: config.pilotTokenMarginS })
      : undefined,
    pusher: new JobPusher(dispatch, hostname()),
    onSubmission: metrics.submitted,
    onQueues: statusReporter && ((rows) => statusReporter.report(rows)),
  });
  const loop = new CycleLoop(agent, { cycleMs: config.cycleMs, logger, onCycle: metrics.cycle });
  onPilotExit = () => loop.kick();

  const server = createGrpcServer(logger);
  server.add(WorkerServiceDefinition, workerService(store, agent));
  const port = await listenGrpc(server, config.grpcHost, config.grpcPort);
  const metricsServer =
    config.metricsPort === undefined
      ? undefined
      : await startMetricsServer({
          host: config.metricsHost,
          port: config.metricsPort,
          registry: metrics.registry,
        });

  // Order: stop cycling, stop the pilots and record how they ended, stop serving, publish
  // what is left in the outbox, close connections.
  shutdown.add('cycle loop', () => loop.stopped());
  shutdown.add('local pilots', async () => {
    await plugins.local?.stopAll(config.pilotStopTimeoutMs);
    await agent.monitor();
  });
  shutdown.add('grpc server', (signal) => stopGrpcServer(server, signal));
  shutdown.add('metrics server', async () => {
    await metricsServer?.close();
  });
  await addHealthServer(shutdown, config, { db, bus });
  shutdown.add('outbox', async () => {
    await outbox.stopped();
    while ((await outbox.publishBatch()) > 0);
  });
  shutdown.add('connections', async () => {
    channel.close();
    await closeBus(bus);
    await db.close();
  });

  loop.start(shutdown.signal);
  logger.info(
    {
      grpc: `${config.grpcHost}:${port}`,
      port,
      serverAddr: config.serverAddr,
      workDir: config.workDir,
      cycleMs: config.cycleMs,
      submitters: plugins.all.map((p) => p.name),
      metrics: metricsServer ? `http://${config.metricsHost}:${metricsServer.port}/metrics` : 'off',
      tokens: config.pilotTokenSecret ? 'signed per worker' : 'off',
    },
    'harvester started',
  );
}

runService('harvester', main, { schema: SCHEMA, migrations: harvesterMigrations(SCHEMA) });
