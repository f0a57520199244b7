import { configDefaults, defineConfig } from 'vitest/config';

// What the integration project's globalSetup provides to `inject()`. libs/testkit declares it for
// its own install of vitest; test files elsewhere resolve `vitest` from the root node_modules,
// which pnpm may install separately (other optional peers), so it is declared here for that one.
declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://postgres@127.0.0.1:<port>/panda` */
    pgUrl: string;
    /** `nats://127.0.0.1:<port>` (JetStream enabled) */
    natsUrl: string;
  }
}

const exclude = [...configDefaults.exclude, '**/dist/**', '**/.local/**', 'proto/gen/**'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['services/*/src/**/*.test.ts', 'libs/*/src/**/*.test.ts', 'bench/src/**/*.test.ts'],
          exclude: [...exclude, '**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/src/**/*.int.test.ts'],
          exclude,
          // One PostgreSQL (database `panda`) and one JetStream nats-server for the whole run:
          // tests read inject('pgUrl') and inject('natsUrl').
          globalSetup: ['./libs/testkit/src/vitest-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          exclude,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
