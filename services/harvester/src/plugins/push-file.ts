import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkerSpec } from './types.js';

/** The file a push worker finds its job in, in its work dir (the pilot's PANDA_PILOT_JOB_FILE). */
export const JOB_FILE = 'pandaJobData.json';

/**
 * The pilot environment a worker's token and pushed job need: PANDA_PILOT_TOKEN, and for a
 * push worker PANDA_PILOT_JOB_FILE (the job file, written here into `dir`) and
 * PANDA_PILOT_MAX_JOBS=1 (a push worker runs its one job and ends).
 */
export async function handOver(spec: WorkerSpec, dir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  if (spec.token) env.PANDA_PILOT_TOKEN = spec.token;
  if (spec.job) {
    const file = join(dir, JOB_FILE);
    await writeFile(file, `${JSON.stringify(spec.job.json)}\n`, { mode: 0o600 });
    env.PANDA_PILOT_JOB_FILE = file;
    env.PANDA_PILOT_MAX_JOBS = '1';
  }
  return env;
}
