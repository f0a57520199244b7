import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@panda/platform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PilotOptions } from './config.js';
import { GatewayClient } from './gateway/client.js';
import { runPilot } from './pilot.js';
import { FakeGateway } from './test-support/fake-gateway.js';
import { testOptions } from './test-support/options.js';

const logger = createLogger({ service: 'pilot-test', level: 'silent' });

let workDir: string;
let gateway: FakeGateway;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pilot-test-'));
});
afterEach(async () => {
  await gateway?.stop();
  await rm(workDir, { recursive: true, force: true });
});

const options = (over: Partial<PilotOptions> = {}) => testOptions(gateway.url, workDir, over);

function run(
  over: Partial<PilotOptions> = {},
  stop = new AbortController().signal,
  echo?: (line: string) => void,
) {
  const client = new GatewayClient({ baseUrl: gateway.url, logger, backoffMs: 20, maxBackoffMs: 50 });
  return runPilot({ options: options(over), gateway: client, logger, node: 'node-1', stop, echo });
}

describe('runPilot against a fake gateway', () => {
  it('reports starting, running, then finished with exit code 0, and keeps the output', async () => {
    gateway = new FakeGateway([{ pandaId: 11, attemptNr: 1, command: 'echo hello; echo warn >&2' }]);
    await gateway.start();
    const lines: string[] = [];
    const summary = await run({}, undefined, (line) => lines.push(line));

    expect(summary.reason).toBe('nojob');
    expect(gateway.getJobs[0]).toEqual({
      queue: 'SLAC_Rubin',
      node: 'node-1',
      memoryMb: 4000,
      cores: 1,
      remainingWalltimeS: 0,
      workerId: 'w-1',
    });
    expect(gateway.states(11)).toEqual(['starting', 'running', 'finished']);
    expect(gateway.final(11)).toMatchObject({
      exitCode: 0,
      errorCode: 0,
      attemptNr: 1,
      node: 'node-1',
      workerId: 'w-1',
    });
    expect(await readFile(join(workDir, '11', 'payload.stdout'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(workDir, '11', 'payload.stderr'), 'utf8')).toBe('warn\n');
    expect(lines).toContain('[11 stdout] hello');
    expect(lines).toContain('[11 stderr] warn');
  });

  it('reports failed with 1305, the exit code and the last stderr line', async () => {
    gateway = new FakeGateway([
      { pandaId: 12, attemptNr: 2, command: 'echo starting; echo boom >&2; exit 3' },
    ]);
    await gateway.start();
    await run();
    expect(gateway.states(12)).toEqual(['starting', 'running', 'failed']);
    expect(gateway.final(12)).toMatchObject({
      exitCode: 3,
      errorCode: 1305,
      errorDiag: 'boom',
      attemptNr: 2,
    });
  });

  it('runs jobs one after the other up to maxJobs', async () => {
    gateway = new FakeGateway([
      { pandaId: 1, attemptNr: 1, command: 'true' },
      { pandaId: 2, attemptNr: 1, command: 'true' },
      { pandaId: 3, attemptNr: 1, command: 'true' },
    ]);
    await gateway.start();
    const summary = await run({ maxJobs: 2 });
    expect(summary.reason).toBe('maxjobs');
    expect(summary.jobs.map((j) => j.pandaId)).toEqual([1, 2]);
    expect(gateway.getJobs).toHaveLength(2);
  });

  it('sends heartbeats and kills the payload group when told tobekilled (1144)', async () => {
    gateway = new FakeGateway([{ pandaId: 13, attemptNr: 1, command: 'sleep 30 & sleep 30; echo never' }]);
    gateway.commandToPilot = 'tobekilled';
    await gateway.start();
    const started = Date.now();
    await run({ heartbeatS: 0.2 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(gateway.states(13)).toEqual(['starting', 'running', 'failed']);
    expect(gateway.final(13)).toMatchObject({ errorCode: 1144, exitCode: 143 });
  });

  it('keeps heartbeating while the payload runs', async () => {
    gateway = new FakeGateway([{ pandaId: 14, attemptNr: 1, command: 'sleep 0.7' }]);
    await gateway.start();
    await run({ heartbeatS: 0.15 });
    const states = gateway.states(14);
    expect(states[0]).toBe('starting');
    expect(states.filter((s) => s === 'running').length).toBeGreaterThanOrEqual(3);
    expect(states.at(-1)).toBe('finished');
  });

  it('on a stop signal kills the payload and reports failed with 1201', async () => {
    gateway = new FakeGateway([
      { pandaId: 15, attemptNr: 1, command: 'sleep 30' },
      { pandaId: 16, attemptNr: 1, command: 'true' },
    ]);
    await gateway.start();
    const stop = new AbortController();
    const running = run({}, stop.signal);
    while (!gateway.states(15).includes('running')) await new Promise((r) => setTimeout(r, 20));
    stop.abort('SIGTERM');
    const summary = await running;
    expect(summary.reason).toBe('stopped');
    expect(gateway.final(15)).toMatchObject({
      state: 'failed',
      errorCode: 1201,
      errorDiag: 'pilot received SIGTERM',
    });
    expect(gateway.states(16)).toEqual([]);
  });

  it('retries the gateway while it answers 503', async () => {
    gateway = new FakeGateway([{ pandaId: 17, attemptNr: 1, command: 'true' }]);
    gateway.unavailable = 3;
    await gateway.start();
    await run();
    expect(gateway.states(17)).toEqual(['starting', 'running', 'finished']);
  });

  it('gives up with reason gateway when it cannot be reached', async () => {
    gateway = new FakeGateway([]);
    await gateway.start();
    await gateway.stop();
    const summary = await run();
    expect(summary.reason).toBe('gateway');
  });

  it('asks for no job when the walltime is used up', async () => {
    gateway = new FakeGateway([{ pandaId: 18, attemptNr: 1, command: 'true' }]);
    await gateway.start();
    const summary = await run({ walltimeS: 30 });
    expect(summary.reason).toBe('walltime');
    expect(gateway.getJobs).toHaveLength(0);
  });
});
