export {
  baseConfigSchema,
  databaseConfigSchema,
  envNameOf,
  loadConfig,
  migrateConfigSchema,
  port,
  url,
} from './config/load.js';
export type { LoadConfigOptions } from './config/load.js';
export { createLogger } from './logging/logger.js';
export type { Logger, LoggerOptions } from './logging/logger.js';
export {
  ConfigError,
  ErrorCodes,
  FailedPreconditionError,
  IllegalTransitionError,
  InvalidArgumentError,
  isPandaError,
  NotFoundError,
  PandaError,
  UnavailableError,
} from './errors/errors.js';
export type { ErrorCode } from './errors/errors.js';
export { Database } from './db/database.js';
export type { DatabaseOptions, MigrationClass, Sql } from './db/database.js';
export { messagingMigration } from './db/messaging-migration.js';
export { closeBus, connectBus, ensureEventsStream, ensureStream, EVENTS_STREAM } from './bus/connect.js';
export type { Bus, StreamSpec } from './bus/connect.js';
export { Outbox } from './bus/outbox.js';
export type { OutboxOptions, OutgoingEvent } from './bus/outbox.js';
export { coalesceBy } from './bus/coalesce.js';
export { EventConsumer } from './bus/consumer.js';
export type { Decoder, EventConsumerOptions, EventMeta } from './bus/consumer.js';
export {
  createGrpcServer,
  errorMappingMiddleware,
  listenGrpc,
  requestLoggingMiddleware,
  stopGrpcServer,
} from './grpc/server.js';
export { createGrpcClient, openChannel } from './grpc/client.js';
export type { GrpcClientOptions } from './grpc/client.js';
export { runChecks, startHealthServer } from './health/health-server.js';
export type { HealthServerOptions, ReadinessCheck } from './health/health-server.js';
export { dependencyChecks, isMigrateCommand, runMigrateCommand } from './lifecycle/migrate-command.js';
export { Shutdown } from './lifecycle/shutdown.js';
export { addHealthServer, runService } from './lifecycle/service.js';
export type { ServiceMigrations } from './lifecycle/service.js';
export type { ShutdownOptions } from './lifecycle/shutdown.js';
export { TransitionTable } from './lifecycle/transitions.js';
export { REPORT_COLUMNS, workflowCounts, workflowToJson } from './api/workflow-json.js';
export type { WorkflowJson } from './api/workflow-json.js';
export { signPilotToken, TokenError, verifyPilotToken } from './auth/pilot-token.js';
export type { PilotTokenClaims, TokenProblem } from './auth/pilot-token.js';
