import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

/**
 * A fresh folder under the OS temp folder for this suite's stack (data, logs, workflow files),
 * removed after the suite's own `afterAll` (which stops the stack) when every test passed. Kept,
 * and its path printed, when one failed or with PANDA_KEEP_TEST_DIRS=1: the logs explain it.
 * Call it at the top of a file or inside a `describe`.
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let failed = false;
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });
  afterAll(() => {
    if (failed || process.env['PANDA_KEEP_TEST_DIRS']) {
      console.log(`kept ${dir} (logs of the stack under test)`);
      return;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
