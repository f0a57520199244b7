import type { Bus } from '../bus/connect.js';
import type { Database, MigrationClass } from '../db/database.js';
import { ConfigError } from '../errors/errors.js';
import { startHealthServer } from '../health/health-server.js';
import { dependencyChecks, isMigrateCommand, runMigrateCommand } from './migrate-command.js';
import type { Shutdown } from './shutdown.js';

/** The migrations `node dist/main.js migrate` applies. */
export interface ServiceMigrations {
  schema: string;
  migrations: MigrationClass[];
}

/**
 * The entry point of a service's `dist/main.js`: with `migrate` given and the `migrate`
 * command, applies the migrations and returns; otherwise runs `main`, which starts the service
 * (the servers it opens keep the process alive). If either fails, says so on stderr (logging
 * may not exist yet: bad configuration) and exits 1: a configuration error by its message
 * alone, anything else in full.
 */
export function runService(name: string, main: () => Promise<void>, migrate?: ServiceMigrations): void {
  const run =
    migrate && isMigrateCommand() ? runMigrateCommand(name, migrate.schema, migrate.migrations) : main();
  run.catch((err: unknown) => {
    console.error(`${name} failed to start:`, err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}

/**
 * Serves `/healthz` and `/readyz` (PostgreSQL and JetStream answer, for those in `deps`) on
 * `healthHost:healthPort` when `healthPort` > 0, and closes that server as the next shutdown
 * step. Returns the port, or undefined when it is off.
 */
export async function addHealthServer(
  shutdown: Shutdown,
  config: { healthHost: string; healthPort: number },
  deps: { db?: Database; bus?: Bus },
): Promise<number | undefined> {
  if (config.healthPort <= 0) return undefined;
  const health = await startHealthServer({
    host: config.healthHost,
    port: config.healthPort,
    checks: dependencyChecks(deps),
  });
  shutdown.add('health', () => health.close());
  return health.port;
}
