import { defineConfig } from 'vitest/config';

// Chart, image and skaffold checks; run by `./dev test` (helm step) and `pnpm --filter @panda/deploy-tests test`.
export default defineConfig({
  test: {
    name: 'deploy',
    include: ['*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
