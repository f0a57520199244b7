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
  GateOpened,
  InputsPruned,
  InputsReleased,
  JobsChanged,
  JobServiceDefinition,
  QueueServiceDefinition,
  TaskServiceDefinition,
} from '@panda/proto';
import { loadJediConfig } from './config.js';
import { migrations, SCHEMA } from './db/migrations.js';
import { taskService } from './grpc/handlers.js';
import { onGateOpened } from './inputs/on-gate-opened.js';
import { onInputsPruned } from './inputs/on-inputs-pruned.js';
import { onInputsReleased } from './inputs/on-inputs-released.js';
import { ENDED_JOB_STATES, onJobsEnded } from './inputs/on-job-ended.js';
import { QueueCache } from './brokerage/queue-cache.js';
import { JobGenerator } from './inputs/job-generator.js';
import { loadRetryRules } from './retry/load-rules.js';
import { PendingLoop } from './tasks/pending-loop.js';
import { TaskCommands } from './tasks/task-commands.js';
import { TaskStore } from './tasks/task-store.js';

async function main(): Promise<void> {
  const config = loadJediConfig();
  const logger = createLogger({ service: 'jedi', level: config.logLevel });
  const shutdown = new Shutdown({ logger, forceAfterMs: config.shutdownTimeoutMs, exitProcess: true });
  shutdown.installSignalHandlers();

  const db = await Database.connect({ url: config.databaseUrl, schema: SCHEMA, migrations });
  if (config.migrateOnStart) await db.migrate(logger);
  const bus = await connectBus({ url: config.natsUrl, name: 'jedi', logger });
  await ensureEventsStream(bus.jsm);
  const outbox = new Outbox(db, bus.js, logger);
  const serverChannel = openChannel(config.serverAddr);
  const jobs = createGrpcClient(JobServiceDefinition, serverChannel);
  const queues = new QueueCache(createGrpcClient(QueueServiceDefinition, serverChannel));
  const generator = new JobGenerator(jobs, queues, outbox, logger);
  const rules = loadRetryRules(config.retryRulesFile);

  const common = { db, js: bus.js, jsm: bus.jsm, logger, afterCommit: () => outbox.kick() };
  const consumers = [
    new EventConsumer({
      ...common,
      durable: 'jedi-inputs-released',
      filterSubject: 'panda.input.released',
      decoder: InputsReleased,
      coalesce: coalesceBy(
        (e) => e.taskId,
        (list) => ({ ...list[0]!, nodeIds: list.flatMap((e) => e.nodeIds) }),
      ),
      // The task row stays locked while its jobs are made: keep that short for job-ended.
      weight: (e) => e.nodeIds.length,
      maxBatchWeight: 2000,
      handle: onInputsReleased(outbox, generator),
    }),
    new EventConsumer({
      ...common,
      durable: 'jedi-inputs-pruned',
      filterSubject: 'panda.input.pruned',
      decoder: InputsPruned,
      coalesce: coalesceBy(
        (e) => e.taskId,
        (list) => ({ ...list[0]!, nodeIds: list.flatMap((e) => e.nodeIds) }),
      ),
      handle: onInputsPruned(outbox, jobs),
    }),
    new EventConsumer({
      ...common,
      durable: 'jedi-gate-opened',
      filterSubject: 'panda.gate.opened',
      decoder: GateOpened,
      handle: onGateOpened(jobs, logger),
    }),
    ...ENDED_JOB_STATES.map(
      (state) =>
        new EventConsumer({
          ...common,
          durable: `jedi-job-${state}`,
          filterSubject: `panda.job.${state}`,
          decoder: JobsChanged,
          // One event: onJobsEnded groups by task itself.
          coalesce: (list) => [{ ...list[list.length - 1]!, jobs: list.flatMap((e) => e.jobs) }],
          weight: (e) => e.jobs.length,
          maxBatchWeight: 2000,
          handle: onJobsEnded(outbox, generator, rules),
        }),
    ),
  ];

  const server = createGrpcServer(logger);
  server.add(
    TaskServiceDefinition,
    taskService(
      new TaskStore(outbox, db, (sql, task, staged) => generator.stage(sql, task, staged)),
      new TaskCommands(outbox, jobs, generator),
    ),
  );

  outbox.start(shutdown.signal);
  for (const c of consumers) await c.start();
  const pending = new PendingLoop(db, outbox, generator, logger).run(config.pendingEveryMs, shutdown.signal);
  const port = await listenGrpc(server, config.grpcHost, config.grpcPort);
  logger.info({ port }, 'jedi listening');
  await addHealthServer(shutdown, config, { db, bus });

  shutdown.add('grpc', (signal) => stopGrpcServer(server, signal));
  shutdown.add('consumers', async () => {
    await Promise.all(consumers.map((c) => c.stop()));
  });
  shutdown.add('pending loop', () => pending);
  shutdown.add('outbox', () => outbox.stopped());
  shutdown.add('nats', () => closeBus(bus));
  shutdown.add('channels', () => serverChannel.close());
  shutdown.add('database', () => db.close());
}

runService('jedi', main, { schema: SCHEMA, migrations });
