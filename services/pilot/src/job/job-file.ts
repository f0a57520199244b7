import { readFile } from 'node:fs/promises';
import { pilotJob } from '../gateway/types.js';
import type { PilotJob } from '../gateway/types.js';

/** The job file harvester writes in a push worker's work dir (PANDA_PILOT_JOB_FILE). */
export const JOB_FILE_NAME = 'pandaJobData.json';

/** The job file is missing, not JSON or not a job. */
export class JobFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`job file ${file}: ${message}`);
    this.name = 'JobFileError';
  }
}

/**
 * Push mode: the job harvester acquired for this worker (already `starting` at the server),
 * as camelCase Job JSON like the gateway's getJob returns it; the getJob reply itself
 * (`{"job": {...}}`) is accepted too.
 */
export async function readJobFile(file: string): Promise<PilotJob> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new JobFileError(file, `cannot read it: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new JobFileError(file, 'not JSON');
  }
  if (json !== null && typeof json === 'object' && 'job' in json) json = (json as { job: unknown }).job;
  const parsed = pilotJob.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobFileError(file, `not a job (${issue?.path.join('.') || 'job'}: ${issue?.message ?? '?'})`);
  }
  return parsed.data;
}
