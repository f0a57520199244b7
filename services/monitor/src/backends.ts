import type { Sql } from '@panda/platform';
import type { QueueServiceClient } from '@panda/proto';
import type { ErrorCatalogue } from './catalogue/catalogue.js';
import { HttpError } from './http/errors.js';
import type { IddsBackend } from './idds/workflows.js';
import type { LiveHub } from './live/hub.js';
import type { JobLogSource } from './logs/job-log.js';

/** Everything the pages read from; tests pass fakes or leave parts out. */
export interface MonitorBackends {
  idds: IddsBackend;
  /** Read-only connection to the services' schemas (PANDA_MONITOR_DATABASE_URL). */
  db?: Sql | undefined;
  queues?: { client: Pick<QueueServiceClient, 'listQueues'>; address: string } | undefined;
  catalogue?: ErrorCatalogue | undefined;
  live?: LiveHub | undefined;
  /** Live job logs (JetStream `PANDA_LOGS`), for the log page's tail. */
  logs?: JobLogSource | undefined;
  /** Base URL of the pilot-gateway, for log links (PANDA_GATEWAY_URL). */
  gatewayUrl?: string | undefined;
}

/** The database, or a 503 page saying which variable is missing. */
export function needDb(backends: MonitorBackends): Sql {
  if (!backends.db) {
    throw new HttpError(
      503,
      'this page reads the services\u2019 tables: set PANDA_MONITOR_DATABASE_URL (a read-only database URL)',
    );
  }
  return backends.db;
}
