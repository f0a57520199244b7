import { DataSource } from 'typeorm';
import type { MigrationInterface } from 'typeorm';
import type { Logger } from '../logging/logger.js';

/** Something that runs SQL and returns rows: the database itself or an open transaction. */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export type MigrationClass = new () => MigrationInterface;

export interface DatabaseOptions {
  url: string;
  /** The service's own schema; the migrations table lives there too. */
  schema: string;
  migrations: MigrationClass[];
  poolSize?: number;
  applicationName?: string;
}

/**
 * A service's connection to PostgreSQL: TypeORM's DataSource for the pool and the
 * migration runner, plus a thin typed `query`/`tx` API returning rows. The schema is
 * changed by migrations only; `synchronize` is never used.
 */
export class Database implements Sql {
  private constructor(
    readonly dataSource: DataSource,
    readonly schema: string,
  ) {}

  static async connect(options: DatabaseOptions): Promise<Database> {
    const dataSource = new DataSource({
      type: 'postgres',
      url: options.url,
      schema: options.schema,
      synchronize: false,
      migrationsRun: false,
      migrations: options.migrations,
      migrationsTableName: 'migrations',
      migrationsTransactionMode: 'each',
      applicationName: options.applicationName ?? options.schema,
      extra: { max: options.poolSize ?? 10 },
    });
    await dataSource.initialize();
    return new Database(dataSource, options.schema);
  }

  /** Creates the schema if needed and applies pending migrations; returns their names. */
  async migrate(logger?: Logger): Promise<string[]> {
    // One migrator at a time per schema (several replicas, or a hook Job and a pod).
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(hashtext($1))`, [`panda-migrate-${this.schema}`]);
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      const applied = await this.dataSource.runMigrations({ transaction: 'each' });
      const names = applied.map((m) => m.name);
      if (names.length) logger?.info({ schema: this.schema, migrations: names }, 'migrations applied');
      return names;
    } finally {
      await runner
        .query(`SELECT pg_advisory_unlock(hashtext($1))`, [`panda-migrate-${this.schema}`])
        .catch(() => {});
      await runner.release();
    }
  }

  async query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(text, params, true);
      return result.records as T[];
    } finally {
      await runner.release();
    }
  }

  /** Runs `fn` in one transaction; commits if it resolves, rolls back if it throws. */
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const sql: Sql = {
      query: async <R>(text: string, params: unknown[] = []) =>
        (await runner.query(text, params, true)).records as R[],
    };
    try {
      const result = await fn(sql);
      await runner.commitTransaction();
      return result;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw err;
    } finally {
      await runner.release();
    }
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
