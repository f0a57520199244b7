import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@panda/platform';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from './config.js';
import { GatewayClient } from './gateway/client.js';
import { readOomKills } from './job/oom.js';
import { runPilot } from './pilot.js';
import { FakeGateway } from './test-support/fake-gateway.js';
import type { FakeJob } from './test-support/fake-gateway.js';
import { limitedChild, makeTestCgroup, oomKillsOf, removeCgroupTree } from '@panda/testkit';

/**
 * Real kernel OOM kills (error 1212): payloads run in a memory cgroup with a 64 MB limit and
 * take 300 MB; the kernel kills them. Needs a writable memory cgroup (root, cgroup v1 memory
 * hierarchy or a cgroup v2 dir that can hand the memory controller down); skipped, with the
 * reason in the suite name, where one cannot be made.
 */

const logger = createLogger({ service: 'pilot-oom-test', level: 'silent' });
const LIMIT = 64 * 1024 ** 2;
/** Takes 300 MB (well past the 64 MB limit), then would sleep. */
const HOG = `python3 -c "import time; a = b'x' * (300 * 1024 * 1024); time.sleep(30)"`;

const probe = await makeTestCgroup('panda-oom-test');
const cgroup = typeof probe === 'string' ? undefined : probe;
const skipReason = typeof probe === 'string' ? probe : undefined;

let workDir: string;
let gateway: FakeGateway | undefined;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pilot-oom-'));
});
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await rm(workDir, { recursive: true, force: true });
});
afterAll(async () => {
  if (cgroup) await removeCgroupTree(cgroup.path);
});

/** Runs one job through a pilot with a generous memory limit of its own (2 x 4000 MB). */
async function runOne(job: FakeJob, env: Record<string, string> = {}) {
  gateway = new FakeGateway([job]);
  await gateway.start();
  const parsed = parseCommandLine([], {
    PANDA_PILOT_QUEUE: 'SLAC_Rubin',
    PANDA_PILOT_GATEWAY_URL: gateway.url,
    PANDA_PILOT_WORKER_ID: 'w-oom',
    PANDA_PILOT_WORK_DIR: workDir,
    PANDA_PILOT_MEMORY_MB: '4000',
    PANDA_PILOT_MAX_JOBS: '1',
    PANDA_PILOT_MONITOR_INTERVAL_S: '0.2',
    PANDA_PILOT_CHECK_INTERVAL_S: '0.2',
    PANDA_PILOT_REALTIME_LOGS: 'false',
    ...env,
  });
  if (parsed.help) throw new Error('unexpected help');
  const summary = await runPilot({
    options: parsed.options,
    gateway: new GatewayClient({ baseUrl: gateway.url, logger, backoffMs: 20, maxBackoffMs: 50 }),
    logger,
    node: 'node-oom',
    stop: new AbortController().signal,
  });
  return { summary, final: gateway.final(job.pandaId) };
}

describe.skipIf(!cgroup)(`real kernel OOM kills${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('reports 1212, not 1235, for a payload the kernel OOM-killed in a cgroup it joined itself (node heuristic)', async () => {
    // given a 64 MB cgroup the payload command joins before taking 300 MB
    const path = await limitedChild(cgroup!, 'wrapped', LIMIT);
    const vmstatBefore = await readOomKills();
    const { final } = await runOne({
      pandaId: 31,
      attemptNr: 1,
      memoryMb: 1000,
      command: `echo $$ > ${join(path, 'cgroup.procs')} && exec ${HOG}`,
    });
    // then the kernel killed it in that cgroup, and the node's counter rose with it
    expect(await oomKillsOf(cgroup!, path)).toBe(1);
    expect(await readOomKills()).toBeGreaterThan(vmstatBefore!);
    // and the pilot, which did not send the SIGKILL, reports it out of memory
    expect(final).toMatchObject({ state: 'failed', errorCode: 1212, exitCode: 137 });
    expect(final!.errorDiag).toMatch(
      /^Payload ran out of memory: killed by SIGKILL while the kernel's OOM-kill count rose from \d+ to \d+$/,
    );
  });

  it("reports 1212 from the payload's own cgroup counter when the pilot runs it under --memory-cgroup", async () => {
    // given a pilot making a cgroup per payload, limited to 32 MB x 2, its own PSS limit at 32 MB x 100
    const { final } = await runOne(
      { pandaId: 32, attemptNr: 1, memoryMb: 32, command: HOG },
      {
        PANDA_PILOT_MEMORY_CGROUP: cgroup!.path,
        PANDA_PILOT_CGROUP_MEMORY_GRACE: '2',
        PANDA_PILOT_MEMORY_GRACE: '100',
      },
    );
    // then the kernel's kill is reported with the cgroup's own evidence
    expect(final).toMatchObject({ state: 'failed', errorCode: 1212, exitCode: 137 });
    expect(final!.errorDiag).toMatch(
      /^Payload ran out of memory: the kernel OOM-killed 1 process\(es\) in the payload's memory cgroup \(limit 64 MB, peak \d+ MB\)$/,
    );
    const metrics = final!.metrics as Record<string, number>;
    expect(metrics.maxRssKb ?? 0).toBeLessThanOrEqual(64 * 1024);
    // and the payload's cgroup is gone
    expect((await readdir(cgroup!.path)).filter((n) => n.startsWith('panda-'))).toEqual([]);
  });

  it('does not call a SIGKILL in the cgroup without an OOM kill there 1212, and lets a payload within the limit finish', async () => {
    const env = { PANDA_PILOT_MEMORY_CGROUP: cgroup!.path, PANDA_PILOT_CGROUP_MEMORY_GRACE: '2' };
    const killed = await runOne({ pandaId: 33, attemptNr: 1, memoryMb: 32, command: 'kill -9 $$' }, env);
    expect(killed.final).toMatchObject({ state: 'failed', errorCode: 1305, exitCode: 137 });
    await gateway!.stop();
    const small = `python3 -c "a = b'x' * (10 * 1024 * 1024)"`;
    const fine = await runOne({ pandaId: 34, attemptNr: 1, memoryMb: 32, command: small }, env);
    expect(fine.final).toMatchObject({ state: 'finished', errorCode: 0 });
  });
});
