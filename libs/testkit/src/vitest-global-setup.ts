/**
 * Vitest globalSetup of the `integration` project: one PostgreSQL (database `panda`) and one
 * JetStream nats-server for the whole run. Tests read their URLs with `inject('pgUrl')` and
 * `inject('natsUrl')`; both are stopped at teardown.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startNats } from './nats.js';
import { startPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://postgres@127.0.0.1:<port>/panda` */
    pgUrl: string;
    /** `nats://127.0.0.1:<port>` (JetStream enabled) */
    natsUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  project.provide('pgUrl', pg.url);
  project.provide('natsUrl', nats.url);
  return async () => {
    await Promise.all([nats.stop(), pg.stop()]);
  };
}
