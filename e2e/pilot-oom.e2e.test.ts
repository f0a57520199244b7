import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import { JobServiceDefinition, ListJobsRequest } from '@panda/proto';
import type { Job } from '@panda/proto';
import {
  makeTestCgroup,
  removeCgroupTree,
  repoRootDir,
  startStack,
  submitWorkflow,
  waitForWorkflow,
} from '@panda/testkit';
import type { Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

const root = repoRootDir();
const pilotMain = join(root, 'services', 'pilot', 'dist', 'main.js');

/**
 * A real kernel OOM kill through the whole stack: harvester's pilots run every payload in its
 * own memory cgroup (job memory x 2), the kernel kills the one that takes too much, the pilot
 * reports 1212 through the gateway (batched toward server) and server stores it. Skipped,
 * with the reason in the suite name, where no memory cgroup can be made (not root, no cgroupfs).
 */
const probe = await makeTestCgroup('panda-e2e-oom');
const cgroup = typeof probe === 'string' ? undefined : probe;
const skipReason = typeof probe === 'string' ? probe : undefined;

describe.skipIf(!cgroup)(
  `pilots in per-job memory cgroups${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let stack: Stack;
    let jobs: Job[];

    beforeAll(async () => {
      // given the whole stack, with pilots whose own PSS limit (x 100) is far above the cgroup's (x 2)
      const dir = mkdtempSync(join(tmpdir(), 'panda-e2e-oom-'));
      stack = await startStack({
        dir,
        cycleMs: 500,
        serviceEnv: {
          harvester: {
            PANDA_PILOT_COMMAND:
              `'${process.execPath}' '${pilotMain}' --monitor-interval-s 0.5 --check-interval-s 0.5 ` +
              `--memory-cgroup '${cgroup!.path}' --cgroup-memory-grace 2 --memory-grace 100`,
          },
        },
      });
      // when a workflow with a job taking 300 MB of its 2 x 32 MB, and one staying within it, runs
      const file = join(dir, 'oom.yaml');
      const job = (name: string, command: string) => ({
        name,
        label: name,
        command,
        parents: [],
        memoryMb: 32,
        cores: 1,
      });
      writeFileSync(
        file,
        stringify({
          name: 'pilot-oom',
          campaign: 'e2e',
          user: 'tester',
          queue: 'SLAC_Rubin',
          maxAttempts: 1,
          jobs: [
            job('hog', `python3 -c "import time; a = b'x' * (300 * 1024 * 1024); time.sleep(30)"`),
            job('small', `python3 -c "a = b'x' * (8 * 1024 * 1024)"`),
          ],
        }),
      );
      const cli = { repoRoot: root, env: stack.cliEnv };
      const workflowId = await submitWorkflow(cli, file);
      await waitForWorkflow(cli, workflowId, { timeoutMs: 120_000 });
      const channel = openChannel(stack.addresses.serverAddr);
      ({ jobs } = await createGrpcClient(JobServiceDefinition, channel).listJobs(
        ListJobsRequest.fromPartial({ workflowId, limit: 100 }),
      ));
      channel.close();
    });
    afterAll(async () => {
      await stack?.stop();
      if (cgroup) await removeCgroupTree(cgroup.path);
    });

    const byName = (name: string) => {
      const job = jobs.find((j) => j.name === name);
      if (!job) throw new Error(`no job ${name} in ${jobs.map((j) => j.name).join(', ')}`);
      return job;
    };

    it('fails the job the kernel OOM-killed with 1212 and the cgroup evidence, not 1235', () => {
      const hog = byName('hog');
      expect([hog.state, hog.errorCode, hog.exitCode]).toEqual(['failed', 1212, 137]);
      expect(hog.errorDiag).toMatch(
        /^Payload ran out of memory: the kernel OOM-killed 1 process\(es\) in the payload's memory cgroup \(limit 64 MB, peak \d+ MB\)$/,
      );
    });

    it('lets the job within its cgroup limit finish', () => {
      expect(byName('small')).toMatchObject({ state: 'finished', errorCode: 0 });
    });

    it("sent the pilots' updates to server in batches, as the gateway's /metrics show", async () => {
      const text = await (await fetch(`${stack.addresses.gatewayUrl}/metrics`)).text();
      const value = (name: string) =>
        Number(/^(\S+) (\S+)$/m.exec(text.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2]);
      expect(value('panda_gateway_update_batches_total{outcome="ok"}')).toBeGreaterThanOrEqual(1);
      expect(value('panda_gateway_update_batch_size_sum')).toBeGreaterThanOrEqual(6); // starting, running, final x 2
      expect(value('panda_gateway_server_queued_requests')).toBe(0);
      expect(text).toMatch(/^panda_gateway_process_cpu_seconds_total /m);
    });
  },
);
