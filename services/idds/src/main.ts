import {
  addHealthServer,
  closeBus,
  coalesceBy,
  connectBus,
  createGrpcClient,
  createGrpcServer,
  createLogger,
  Database,
  ensureEventsStream,
  EventConsumer,
  listenGrpc,
  openChannel,
  Outbox,
  runService,
  Shutdown,
  stopGrpcServer,
} from '@panda/platform';
import {
  InputsDone,
  JobServiceDefinition,
  TaskServiceDefinition,
  WorkflowServiceDefinition,
} from '@panda/proto';
import { loadIddsConfig } from './config.js';
import { migrations, SCHEMA } from './db/migrations.js';
import { workflowService } from './grpc/handlers.js';
import { onInputsDone } from './workflows/on-inputs-done.js';
import { WorkflowControl } from './workflows/control.js';
import { WorkflowQueries } from './workflows/queries.js';
import { WorkflowSubmitter } from './workflows/submit.js';

async function main(): Promise<void> {
  const config = loadIddsConfig();
  const logger = createLogger({ service: 'idds', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();

  const db = await Database.connect({ url: config.databaseUrl, schema: SCHEMA, migrations });
  if (config.migrateOnStart) await db.migrate(logger);
  const bus = await connectBus({ url: config.natsUrl, name: 'idds', logger });
  await ensureEventsStream(bus.jsm);
  const outbox = new Outbox(db, bus.js, logger);
  const jediChannel = openChannel(config.jediAddr);
  const serverChannel = openChannel(config.serverAddr);
  const jedi = createGrpcClient(TaskServiceDefinition, jediChannel, { deadlineMs: 120_000 });
  const jobs = createGrpcClient(JobServiceDefinition, serverChannel);

  const submitter = new WorkflowSubmitter(db, outbox, jedi, logger, config);
  const consumer = new EventConsumer({
    db,
    js: bus.js,
    jsm: bus.jsm,
    logger,
    durable: 'idds-inputs-done',
    filterSubject: 'panda.input.done',
    decoder: InputsDone,
    coalesce: coalesceBy(
      (e) => e.workflowId,
      (list) => ({ ...list[0]!, results: list.flatMap((e) => e.results) }),
    ),
    handle: onInputsDone(outbox),
    afterCommit: () => outbox.kick(),
  });
  const server = createGrpcServer(logger);
  server.add(
    WorkflowServiceDefinition,
    workflowService(submitter, new WorkflowQueries(db, jobs), new WorkflowControl(db, outbox, jedi, logger)),
  );

  outbox.start(shutdown.signal);
  await consumer.start();
  const resumer = setInterval(() => void submitter.resumeNew(config.resumeEveryMs), config.resumeEveryMs);
  const port = await listenGrpc(server, config.grpcHost, config.grpcPort);
  logger.info({ port }, 'idds listening');
  await addHealthServer(shutdown, config, { db, bus });

  shutdown.add('grpc', (signal) => stopGrpcServer(server, signal));
  shutdown.add('resumer', () => clearInterval(resumer));
  shutdown.add('consumer', () => consumer.stop());
  shutdown.add('outbox', () => outbox.stopped());
  shutdown.add('nats', () => closeBus(bus));
  shutdown.add('channels', () => {
    jediChannel.close();
    serverChannel.close();
  });
  shutdown.add('database', () => db.close());
}

runService('idds', main, { schema: SCHEMA, migrations });
