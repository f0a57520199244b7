import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition, ListJobsRequest } from '@panda/proto';
import type { Job } from '@panda/proto';
import { repoRootDir, startStack, submitWorkflow, waitForWorkflow } from '@panda/testkit';
import type { PandaCli, Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';
import { stringify } from 'yaml';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-pilot-');
const pilotMain = join(root, 'services', 'pilot', 'dist', 'main.js');
const tokenSecret = 'e2e-shared-secret-for-pilot-tokens';

/** A Rubin ButlerLogRecord line. */
const butler = (level: string, message: string) =>
  JSON.stringify({
    name: 'lsst.isr',
    asctime: '2025-01-01T00:00:00',
    message,
    levelno: level === 'ERROR' ? 40 : 20,
    levelname: level,
    filename: 'isrTask.py',
    lineno: 42,
    funcName: 'run',
    process: 1,
    exc_info: null,
    MDC: { LABEL: 'isr', RUN: 'u/e2e/run1' },
  });

describe('pilots running real payloads under limits, with live logs and archives', () => {
  let stack: Stack;
  let cli: PandaCli;
  let jobs: Job[];
  let workflowId: number;

  beforeAll(async () => {
    // given the whole stack, harvester starting pilots that sample every 0.5 s and call a
    // payload looping after 3 s without a file change, and a gateway that checks tokens
    stack = await startStack({
      dir,
      cycleMs: 500,
      serviceEnv: {
        harvester: {
          PANDA_PILOT_COMMAND: `'${process.execPath}' '${pilotMain}' --monitor-interval-s 0.5 --check-interval-s 0.5 --looping-limit-s 3 --log-poll-ms 200`,
        },
        'pilot-gateway': { PANDA_PILOT_TOKEN_SECRET: tokenSecret },
      },
    });
    cli = { repoRoot: root, env: stack.cliEnv };

    // when a workflow of a memory hog, a stalled payload, a logging payload and a failing one runs
    const file = join(dir, 'limits.yaml');
    const job = (name: string, command: string, memoryMb = 1000) => ({
      name,
      label: name,
      command,
      parents: [],
      memoryMb,
      cores: 1,
    });
    writeFileSync(
      file,
      stringify({
        name: 'pilot-limits',
        campaign: 'e2e',
        user: 'tester',
        queue: 'SLAC_Rubin',
        maxAttempts: 1,
        jobs: [
          job('hog', `python3 -c "import time; a = b'x' * (400 * 1024 * 1024); time.sleep(60)"`, 100),
          job('stall', 'sleep 120'),
          job(
            'logs',
            `echo plain stdout line; echo '${butler('INFO', 'processing detector 42')}' >> payload-log.json; ` +
              `sleep 1; echo '${butler('ERROR', 'only 0 sources, but require at least 2.')}' >> payload-log.json`,
          ),
          job('bad', 'echo "Unable to measure aperture correction" >&2; exit 3'),
        ],
      }),
    );
    workflowId = await submitWorkflow(cli, file);
    await waitForWorkflow(cli, workflowId, { timeoutMs: 120_000 });
    const channel = openChannel(stack.addresses.serverAddr);
    ({ jobs } = await createGrpcClient(JobServiceDefinition, channel).listJobs(
      ListJobsRequest.fromPartial({ workflowId, limit: 100 }),
    ));
    channel.close();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const byName = (name: string) => {
    const job = jobs.find((j) => j.name === name);
    if (!job) throw new Error(`no job ${name} in ${jobs.map((j) => j.name).join(', ')}`);
    return job;
  };

  it('kills the memory hog with 1235 and stores its measured peak memory', () => {
    // then the hog failed with the pilot's memory error and the server has its metrics
    const hog = byName('hog');
    expect(hog.state).toBe('failed');
    expect(hog.errorCode).toBe(1235);
    expect(hog.errorDiag).toMatch(/^Payload exceeded maximum allowed memory: PSS \d+ kB > limit 204800 kB/);
    expect(hog.metrics?.maxPssKb).toBeGreaterThan(204_800);
    expect(hog.metrics?.maxRssKb).toBeGreaterThan(204_800);
  });

  it('catches the stalled payload with the looping check (1150)', () => {
    const stall = byName('stall');
    expect(stall.state).toBe('failed');
    expect(stall.errorCode).toBe(1150);
    expect(stall.errorDiag).toMatch(/^Looping job killed by pilot/);
  });

  it('reports a non-zero exit as 1305 with the last error line, and metrics with timings', () => {
    const bad = byName('bad');
    expect([bad.state, bad.exitCode, bad.errorCode]).toEqual(['failed', 3, 1305]);
    expect(bad.errorDiag).toBe('Unable to measure aperture correction');
    const logs = byName('logs');
    expect(logs.state).toBe('finished');
    expect(logs.metrics?.payloadS).toBeGreaterThan(0.9);
    expect(logs.metrics?.maxProcesses).toBeGreaterThanOrEqual(1);
  });

  it('serves the JSON log records of a job with their MDC and severity, as NDJSON', async () => {
    const logs = byName('logs');
    const res = await fetch(`${stack.addresses.gatewayUrl}/logs/v1/jobs/${logs.pandaId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const records = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((r) => r.message === 'plain stdout line')).toMatchObject({
      source: 'stdout',
      severity: 'INFO',
      pandaId: logs.pandaId,
      taskId: logs.taskId,
    });
    const error = records.find((r) => r.message === 'only 0 sources, but require at least 2.');
    expect(error).toMatchObject({
      source: 'payload-log.json',
      severity: 'ERROR',
      logger: 'lsst.isr',
      mdc: { LABEL: 'isr', RUN: 'u/e2e/run1' },
      pandaId: logs.pandaId,
      taskId: logs.taskId,
      workerId: logs.workerId,
    });
    expect(error!.fields).toMatchObject({ lineno: '42', funcName: 'run' });
    expect(Date.parse(error!.pilotTime as string)).toBeGreaterThan(0);
    // and following a finished job ends at its final batch instead of hanging
    const followed = await fetch(`${stack.addresses.gatewayUrl}/logs/v1/jobs/${logs.pandaId}?follow=1`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect((await followed.text()).trim().split('\n')).toHaveLength(records.length);
  });

  it('keeps a log archive per job, downloadable by PandaID', async () => {
    const hog = byName('hog');
    const list = await fetch(`${stack.addresses.gatewayUrl}/logs/v1/jobs/${hog.pandaId}/archive`);
    const { files } = (await list.json()) as { files: { name: string; size: number }[] };
    expect(files.map((f) => f.name)).toEqual(
      expect.arrayContaining(['memory_monitor_output.txt', 'memory_monitor_summary.json', 'pilot.log']),
    );
    const series = await fetch(
      `${stack.addresses.gatewayUrl}/logs/v1/jobs/${hog.pandaId}/archive/memory_monitor_output.txt`,
    );
    expect(series.status).toBe(200);
    const rows = (await series.text()).trim().split('\n');
    expect(rows[0]).toBe('time\tpss\trss\tvmem\tswap\tutime\tstime\tnprocs\tnthreads');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const pilotLog = await fetch(
      `${stack.addresses.gatewayUrl}/logs/v1/jobs/${hog.pandaId}/archive/pilot.log`,
    );
    expect(await pilotLog.text()).toContain('killing payload');
  });

  it('refuses a forged token with 401 and changes nothing', async () => {
    const logs = byName('logs');
    const forged = `v1.${Buffer.from(JSON.stringify({ w: logs.workerId, q: 'SLAC_Rubin', exp: 4_000_000_000 })).toString('base64url')}.AAAA`;
    const res = await fetch(`${stack.addresses.gatewayUrl}/pilot/v1/updateJob`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${forged}` },
      body: JSON.stringify({
        pandaId: logs.pandaId,
        state: 'failed',
        attemptNr: logs.attemptNr,
        workerId: logs.workerId,
      }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^token rejected: token signature does not match/,
    );
    const channel = openChannel(stack.addresses.serverAddr);
    const after = await createGrpcClient(JobServiceDefinition, channel).getJob({ pandaId: logs.pandaId });
    channel.close();
    expect(after.state).toBe('finished');
  });
});
