import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@panda/platform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PilotOptions } from './config.js';
import { GatewayClient } from './gateway/client.js';
import type { GatewayClientOptions } from './gateway/client.js';
import { runPilot } from './pilot.js';
import { FakeGateway } from './test-support/fake-gateway.js';
import type { FakeJob } from './test-support/fake-gateway.js';
import { testOptions } from './test-support/options.js';

const logger = createLogger({ service: 'pilot-test', level: 'silent' });
let workDir: string;
let gateway: FakeGateway | undefined;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pilot-limits-'));
});
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await rm(workDir, { recursive: true, force: true });
});

/** Options with fast monitoring and one job; the limits under test are set per case. */
const options = (url: string, over: Partial<PilotOptions>) =>
  testOptions(url, workDir, { maxJobs: 1, monitorIntervalS: 0.2, checkIntervalS: 0.2, ...over });

async function runOne(
  job: FakeJob,
  over: Partial<PilotOptions> = {},
  setup?: (g: FakeGateway) => void,
  clientOptions: Partial<GatewayClientOptions> = {},
) {
  gateway = new FakeGateway([job]);
  setup?.(gateway);
  await gateway.start();
  // A final update the gateway keeps refusing as busy is given up after half a second here.
  const client = new GatewayClient({
    baseUrl: gateway.url,
    logger,
    backoffMs: 20,
    maxBackoffMs: 50,
    busyRetryMs: 500,
    ...clientOptions,
  });
  const started = Date.now();
  const summary = await runPilot({
    options: options(gateway.url, over),
    gateway: client,
    logger,
    node: 'node-1',
    stop: new AbortController().signal,
  });
  return { summary, final: gateway.final(job.pandaId), seconds: (Date.now() - started) / 1000 };
}

/** Allocates and touches `mb` MB, then sleeps. */
const hog = (mb: number, sleepS: number) =>
  `python3 -c "import time; a = b'x' * (${mb} * 1024 * 1024); time.sleep(${sleepS})"`;

describe('limits on real payloads', () => {
  it('kills a payload whose PSS goes above memory x grace with 1235, and reports the peak', async () => {
    // given a job asking 40 MB (limit 80 MB with grace 2) whose payload takes 200 MB
    const { final, seconds } = await runOne({
      pandaId: 21,
      attemptNr: 1,
      command: hog(200, 30),
      memoryMb: 40,
    });
    // then it is killed long before its 30 s, failed with 1235 and the measured PSS
    expect(seconds).toBeLessThan(15);
    expect(final).toMatchObject({ state: 'failed', errorCode: 1235, exitCode: 143 });
    expect(final!.errorDiag).toMatch(/^Payload exceeded maximum allowed memory: PSS \d+ kB > limit 81920 kB/);
    const metrics = final!.metrics as Record<string, number>;
    expect(metrics.maxPssKb).toBeGreaterThan(81_920);
    expect(metrics.maxRssKb).toBeGreaterThan(81_920);
  });

  it('reports max/avg memory, CPU, processes and timings of a payload that finishes', async () => {
    const { final } = await runOne({
      pandaId: 22,
      attemptNr: 1,
      command: `${hog(60, 1)}; true`,
      memoryMb: 1000,
    });
    expect(final).toMatchObject({ state: 'finished', errorCode: 0 });
    const m = final!.metrics as Record<string, number>;
    expect(m.maxRssKb).toBeGreaterThan(60 * 1024);
    expect(m.maxPssKb).toBeGreaterThan(55 * 1024);
    expect(m.avgRssKb).toBeLessThanOrEqual(m.maxRssKb!);
    expect(m.maxVmemKb).toBeGreaterThan(m.maxRssKb!);
    expect(m.maxProcesses).toBeGreaterThanOrEqual(2); // bash and python
    expect(m.maxThreads).toBeGreaterThanOrEqual(2);
    expect(m.payloadS).toBeGreaterThan(0.9);
    expect(m.setupS).toBeGreaterThanOrEqual(0);
    expect(m.getjobS).toBeGreaterThanOrEqual(0);
  });

  it('kills a payload changing no file for the looping limit with 1150', async () => {
    const { final, seconds } = await runOne(
      { pandaId: 23, attemptNr: 1, command: 'sleep 30' },
      { loopingLimitS: 1 },
    );
    expect(seconds).toBeLessThan(10);
    expect(final).toMatchObject({ state: 'failed', errorCode: 1150 });
    expect(final!.errorDiag).toMatch(
      /^Looping job killed by pilot: no file in the work dir changed for \d+ s/,
    );
  });

  it('does not count a payload that keeps writing as looping', async () => {
    const command = 'for i in 1 2 3 4 5 6 7 8 9 10; do echo $i > progress; sleep 0.3; done';
    const { final } = await runOne({ pandaId: 24, attemptNr: 1, command }, { loopingLimitS: 1 });
    expect(final).toMatchObject({ state: 'finished', errorCode: 0 });
  });

  it('kills a payload running past the job walltime with 1213', async () => {
    const { final, seconds } = await runOne({ pandaId: 25, attemptNr: 1, command: 'sleep 30', walltimeS: 1 });
    expect(seconds).toBeLessThan(10);
    expect(final).toMatchObject({ state: 'failed', errorCode: 1213 });
    expect(final!.errorDiag).toMatch(/^Reached time limit: payload ran \d+ s, limit 1 s/);
  });

  it('aborts with 1317 and stops asking for jobs when no heartbeat gets through', async () => {
    const { summary, seconds } = await runOne(
      { pandaId: 26, attemptNr: 1, command: 'sleep 30' },
      { lostHeartbeatS: 1, heartbeatS: 0.2, maxJobs: 0 },
      (g) => (g.failUpdatesAfterStarting = true),
    );
    expect(seconds).toBeLessThan(15);
    expect(summary.reason).toBe('lostheartbeat');
    expect(summary.jobs[0]!.outcome).toMatchObject({ state: 'failed', errorCode: 1317 });
  });

  it('still aborts with 1317 when the gateway sheds load with 503 and Retry-After', async () => {
    // given a gateway refusing every update after `starting` as overloaded, asking for 1 s
    const { summary } = await runOne(
      { pandaId: 28, attemptNr: 1, command: 'sleep 30' },
      { lostHeartbeatS: 1, heartbeatS: 0.2, maxJobs: 0 },
      (g) => {
        g.failUpdatesAfterStarting = true;
        g.retryAfterS = 1;
      },
      { finalAttempts: 2 },
    );
    // then the pilot waits as asked between attempts, yet its lost-heartbeat limit still ends the job
    expect(summary.reason).toBe('lostheartbeat');
    expect(summary.jobs[0]!.outcome).toMatchObject({ state: 'failed', errorCode: 1317 });
    expect(summary.jobs[0]!.outcome.errorDiag).toMatch(/^Lost heartbeat: no update reached the server/);
    // and it did try to send the final state
    expect(gateway!.refusedUpdates.filter((u) => u.pandaId === 28 && u.state === 'failed')).toHaveLength(2);
  });
});

describe('real-time logs and the log archive', () => {
  it('sends stdout and Butler JSON records with severity and MDC, then uploads the archive', async () => {
    // given a payload printing a line and writing two ButlerLogRecord lines
    const rec = (level: string, msg: string) =>
      JSON.stringify({
        name: 'lsst.isr',
        levelname: level,
        message: msg,
        MDC: { LABEL: 'isr', RUN: 'r1' },
        lineno: 7,
      });
    const command = `echo plain; echo '${rec('INFO', 'starting isr')}' >> payload-log.json; sleep 0.3; echo '${rec('ERROR', 'only 0 sources')}' >> payload-log.json`;
    const { final } = await runOne({ pandaId: 27, attemptNr: 1, command, taskId: 9 });
    expect(final).toMatchObject({ state: 'finished' });
    // then the gateway got every record with its job, task and worker, the JSON ones with severity and MDC
    const records = gateway!.records(27);
    expect(records.find((r) => r.message === 'plain')).toMatchObject({ source: 'stdout', severity: 'INFO' });
    const error = records.find((r) => r.message === 'only 0 sources');
    expect(error).toMatchObject({
      source: 'payload-log.json',
      severity: 'ERROR',
      logger: 'lsst.isr',
      mdc: { LABEL: 'isr', RUN: 'r1' },
      fields: { lineno: '7' },
    });
    expect(typeof error!.pilotTime).toBe('number');
    const batches = gateway!.logBatches.filter((b) => b.pandaId === 27);
    expect(batches.every((b) => b.taskId === 9 && b.workerId === 'w-1')).toBe(true);
    expect(batches.at(-1)!.final).toBe(true);
    // and the archive holds the output, the JSON log and the memory time series
    expect(gateway!.archive.get('27/payload.stdout')?.toString()).toBe('plain\n');
    expect(gateway!.archive.get('27/payload-log.json')?.toString()).toContain('starting isr');
    expect(gateway!.archive.get('27/memory_monitor_output.txt')?.toString()).toMatch(/^time\tpss\trss/);
  });
});
