import { Database } from '@panda/platform';
import type { Sql } from '@panda/platform';

/** A read-only connection to the services' schemas (server, jedi, idds, harvester). */
export interface ReadDb {
  sql: Sql;
  close(): Promise<void>;
}

/**
 * Adds session settings to the URL: every transaction is read-only (the monitor never writes)
 * and a statement is cancelled after `statementTimeoutMs`, so a slow page cannot hold the pool.
 * JIT is off: the pages' queries are short, and on a large jobs table their (over)estimated
 * costs pass jit_above_cost, so compiling took longer than running them (1.2 s of 1.7 s for the
 * errors summary over a million jobs). A little more work_mem keeps the summaries' sorts and
 * hashes of tens of thousands of error pairs in memory instead of on disk.
 */
export function readOnlyUrl(url: string, statementTimeoutMs: number): string {
  const u = new URL(url);
  const options = [
    u.searchParams.get('options') ?? '',
    '-c default_transaction_read_only=on',
    `-c statement_timeout=${Math.max(1, Math.round(statementTimeoutMs))}`,
    '-c jit=off',
    '-c work_mem=16MB',
  ]
    .filter(Boolean)
    .join(' ');
  u.searchParams.set('options', options);
  return u.toString();
}

/** Opens the pool; migrations are never run from here. */
export async function openReadDb(url: string, statementTimeoutMs: number): Promise<ReadDb> {
  const db = await Database.connect({
    url: readOnlyUrl(url, statementTimeoutMs),
    schema: 'public',
    migrations: [],
    poolSize: 6,
    applicationName: 'monitor',
  });
  return { sql: db, close: () => db.close() };
}

/** pg returns bigint and count(*) as strings: numbers for JSON and views. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
export const iso = (v: unknown): string | null =>
  v instanceof Date ? v.toISOString() : typeof v === 'string' ? new Date(v).toISOString() : null;

/** Collects positional parameters while a WHERE clause is built. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
