import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@panda/platform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from './config.js';
import type { PilotOptions } from './config.js';
import { GatewayClient } from './gateway/client.js';
import { JOB_FILE_NAME, JobFileError, readJobFile } from './job/job-file.js';
import { runPilot } from './pilot.js';
import { FakeGateway } from './test-support/fake-gateway.js';

const logger = createLogger({ service: 'pilot-push-test', level: 'silent' });
let workDir: string;
let gateway: FakeGateway;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pilot-push-'));
});
afterEach(async () => {
  await gateway?.stop();
  await rm(workDir, { recursive: true, force: true });
});

/** The pilot as harvester starts a push worker: work dir, job file, one job at most. */
function options(over: Record<string, string> = {}): PilotOptions {
  const parsed = parseCommandLine([], {
    PANDA_PILOT_QUEUE: 'SLAC_Rubin_Extra_Himem',
    PANDA_PILOT_GATEWAY_URL: gateway.url,
    PANDA_PILOT_WORKER_ID: 'w-push',
    PANDA_PILOT_WORK_DIR: workDir,
    PANDA_PILOT_HEARTBEAT_S: '60',
    PANDA_PILOT_JOB_FILE: join(workDir, JOB_FILE_NAME),
    PANDA_PILOT_MAX_JOBS: '1',
    ...over,
  });
  if (parsed.help) throw new Error('unexpected help');
  return parsed.options;
}

const run = (o: PilotOptions) =>
  runPilot({
    options: o,
    gateway: new GatewayClient({ baseUrl: gateway.url, logger, backoffMs: 20, maxBackoffMs: 50 }),
    logger,
    node: 'node-1',
    stop: new AbortController().signal,
  });

/** A Job as the gateway returns it (camelCase, timestamps as strings, extra fields). */
const gatewayJob = {
  pandaId: 41,
  taskId: 7,
  attemptNr: 2,
  name: 'calibrate_1',
  label: 'calibrate',
  command: 'echo "pushed $PANDA_JOB_ID"',
  queue: 'SLAC_Rubin_Extra_Himem',
  state: 'starting',
  memoryMb: 20000,
  cores: 1,
  walltimeS: 0,
  workerId: 'w-push',
  createdAt: '2026-01-01T00:00:00.000Z',
  startTime: null,
};

describe('push mode: the job handed over in a file', () => {
  it('runs the job from the file without getJob, reports it, and stops at maxJobs', async () => {
    // given a gateway that would also have another job to give, and the job file harvester wrote
    gateway = new FakeGateway([{ pandaId: 99, attemptNr: 1, command: 'true' }]);
    await gateway.start();
    await writeFile(join(workDir, JOB_FILE_NAME), JSON.stringify(gatewayJob));

    // when the pilot runs
    const summary = await run(options());

    // then the file's job ran and was reported, and no getJob was made
    expect(summary).toMatchObject({ reason: 'maxjobs', jobs: [{ pandaId: 41 }] });
    expect(gateway.getJobs).toEqual([]);
    expect(gateway.states(41)).toEqual(['starting', 'running', 'finished']);
    expect(gateway.final(41)).toMatchObject({ attemptNr: 2, workerId: 'w-push', exitCode: 0 });
    expect(await readFile(join(workDir, '41', 'payload.stdout'), 'utf8')).toBe('pushed 41\n');
    expect(gateway.states(99)).toEqual([]);
  });

  it('goes on pulling after the pushed job when no job limit is set', async () => {
    gateway = new FakeGateway([{ pandaId: 42, attemptNr: 1, command: 'true' }]);
    await gateway.start();
    await writeFile(join(workDir, JOB_FILE_NAME), JSON.stringify({ job: gatewayJob }));
    const summary = await run(options({ PANDA_PILOT_MAX_JOBS: '0' }));
    expect(summary.jobs.map((j) => j.pandaId)).toEqual([41, 42]);
    expect(summary.reason).toBe('nojob');
    expect(gateway.getJobs).toHaveLength(2);
  });

  it('ends with reason jobfile, running nothing, when the file is missing or not a job', async () => {
    gateway = new FakeGateway([{ pandaId: 43, attemptNr: 1, command: 'true' }]);
    await gateway.start();
    expect((await run(options())).reason).toBe('jobfile');
    await writeFile(join(workDir, JOB_FILE_NAME), JSON.stringify({ pandaId: 'x' }));
    expect((await run(options())).reason).toBe('jobfile');
    expect(gateway.getJobs).toEqual([]);
    expect(gateway.updates).toEqual([]);
  });

  it('says what is wrong with a job file', async () => {
    const file = join(workDir, JOB_FILE_NAME);
    await expect(readJobFile(file)).rejects.toThrow(/cannot read it: ENOENT/);
    await writeFile(file, '{');
    await expect(readJobFile(file)).rejects.toThrow(`job file ${file}: not JSON`);
    await writeFile(file, JSON.stringify({ ...gatewayJob, command: 3 }));
    await expect(readJobFile(file)).rejects.toThrow(JobFileError);
    await expect(readJobFile(file)).rejects.toThrow(/not a job \(command: /);
  });
});
