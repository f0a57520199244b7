import type { Bus } from '../bus/connect.js';
import { EVENTS_STREAM } from '../bus/connect.js';
import { loadConfig, migrateConfigSchema } from '../config/load.js';
import { Database } from '../db/database.js';
import type { MigrationClass } from '../db/database.js';
import type { ReadinessCheck } from '../health/health-server.js';
import { createLogger } from '../logging/logger.js';

/** `node dist/main.js migrate`: the Helm hook Job and init containers run this. */
export const isMigrateCommand = (argv: readonly string[] = process.argv): boolean => argv[2] === 'migrate';

/**
 * Applies the service's migrations and returns; needs only PANDA_DATABASE_URL (and
 * PANDA_LOG_LEVEL). Safe to run concurrently: `Database.migrate` takes an advisory lock.
 */
export async function runMigrateCommand(
  service: string,
  schema: string,
  migrations: MigrationClass[],
): Promise<void> {
  // loadConfig reads only the schema's variables (database URL, log level).
  const config = loadConfig(migrateConfigSchema);
  const logger = createLogger({ service, level: config.logLevel });
  // Two connections: one holds the advisory lock while the migrator uses the other.
  const db = await Database.connect({ url: config.databaseUrl, schema, migrations, poolSize: 2 });
  try {
    const applied = await db.migrate(logger);
    logger.info({ schema, applied: applied.length }, 'migrations up to date');
  } finally {
    await db.close();
  }
}

/** Readiness of a service's dependencies: PostgreSQL answers, JetStream answers. */
export function dependencyChecks(deps: { db?: Database; bus?: Bus }): Record<string, ReadinessCheck> {
  const checks: Record<string, ReadinessCheck> = {};
  if (deps.db) checks.database = () => deps.db!.ping();
  if (deps.bus) {
    checks.nats = async () => {
      if (deps.bus!.nc.isClosed()) throw new Error('connection closed');
      await deps.bus!.jsm.streams.info(EVENTS_STREAM);
    };
  }
  return checks;
}
