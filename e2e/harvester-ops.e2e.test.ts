import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGrpcClient, openChannel } from '@panda/platform';
import {
  JobServiceDefinition,
  ListJobsRequest,
  QueueServiceDefinition,
  WorkerServiceDefinition,
} from '@panda/proto';
import type { Job } from '@panda/proto';
import {
  freePort,
  repoRootDir,
  sleep,
  startStack,
  submitWorkflow,
  waitFor,
  waitForWorkflow,
} from '@panda/testkit';
import type { PandaCli, Stack } from '@panda/testkit';
import type { Channel } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';
import { stringify } from 'yaml';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-harvester-ops-');
const pilotMain = join(root, 'services', 'pilot', 'dist', 'main.js');
const secret = 'e2e-secret-shared-by-harvester-and-gateway';

/** A copy of config/queues.json the server watches; `setStatus` edits it in place. */
const queuesFile = join(dir, 'config', 'queues.json');
type Catalogue = { queues: { name: string; status: string }[] };
function setStatus(queue: string, status: string): void {
  const catalogue = JSON.parse(readFileSync(queuesFile, 'utf8')) as Catalogue;
  catalogue.queues.find((q) => q.name === queue)!.status = status;
  writeFileSync(queuesFile, JSON.stringify(catalogue, null, 2));
}

function workflowFile(
  name: string,
  queue: string,
  jobs: { name: string; command: string }[],
  memoryMb: number,
) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      name,
      campaign: 'e2e',
      user: 'tester',
      queue,
      maxAttempts: 1,
      jobs: jobs.map((j) => ({ ...j, label: j.name.split('_')[0], parents: [], memoryMb, cores: 1 })),
    }),
  );
  return file;
}

describe('harvester operations: push queues, queues set offline, worker metrics', () => {
  let stack: Stack;
  let cli: PandaCli;
  let server: Channel;
  let harvester: Channel;
  let metricsPort: number;

  const jobsOf = async (workflowId: number): Promise<Job[]> =>
    (
      await createGrpcClient(JobServiceDefinition, server).listJobs(
        ListJobsRequest.fromPartial({ workflowId, limit: 100 }),
      )
    ).jobs;
  const workersOf = async (queue: string, state = '') =>
    (await createGrpcClient(WorkerServiceDefinition, harvester).listWorkers({ queue, state, limit: 500 }))
      .workers;
  const activeWorkers = async (queue: string) =>
    (await workersOf(queue)).filter((w) => ['submitted', 'running', 'idle'].includes(w.state));

  beforeAll(async () => {
    // given the stack on a copy of the queue catalogue, tokens required, worker metrics on a
    // port, and pilots that take 2 s to start (so a pushed job can be seen waiting for its pilot)
    mkdirSync(join(dir, 'config'), { recursive: true });
    writeFileSync(queuesFile, readFileSync(join(root, 'config', 'queues.json')));
    metricsPort = await freePort();
    stack = await startStack({
      dir,
      cycleMs: 500,
      queuesFile,
      services: ['server', 'jedi', 'idds', 'pilot-gateway', 'harvester'],
      serviceEnv: {
        'pilot-gateway': { PANDA_PILOT_TOKEN_SECRET: secret, PANDA_REQUIRE_TOKEN: 'true' },
        harvester: {
          PANDA_PILOT_TOKEN_SECRET: secret,
          PANDA_METRICS_PORT: String(metricsPort),
          PANDA_PILOT_COMMAND: `sleep 2; exec '${process.execPath}' '${pilotMain}'`,
        },
      },
    });
    cli = { repoRoot: root, env: stack.cliEnv };
    server = openChannel(stack.addresses.serverAddr);
    harvester = openChannel(stack.addresses.harvesterAddr);
  });
  afterAll(async () => {
    server?.close();
    harvester?.close();
    await stack?.stop();
  });

  it('push queue: harvester acquires each job for a new worker, which runs it from its job file', async () => {
    // when two jobs are submitted to the push queue SLAC_Rubin_Extra_Himem (one worker at a time)
    const queue = 'SLAC_Rubin_Extra_Himem';
    const id = await submitWorkflow(
      cli,
      workflowFile(
        'push',
        queue,
        [
          { name: 'merge_1', command: 'echo "pushed job $PANDA_JOB_ID"' },
          { name: 'merge_2', command: 'echo "pushed job $PANDA_JOB_ID"' },
        ],
        20_000,
      ),
    );

    // then each job is seen in `starting`, held by a worker, while that worker's pilot is not
    // yet running it
    const seenStarting = new Map<number, string>();
    const pilotLog = (workerId: string) => {
      try {
        return readFileSync(join(stack.dir, 'work', 'workers', workerId, 'pilot.log'), 'utf8');
      } catch {
        return '';
      }
    };
    await waitFor(
      async () => {
        for (const job of await jobsOf(id)) {
          if (
            job.state === 'starting' &&
            job.workerId &&
            !pilotLog(job.workerId).includes('job handed over')
          ) {
            seenStarting.set(job.pandaId, job.workerId);
          }
        }
        return seenStarting.size === 2;
      },
      'both jobs in starting before their pilots run them',
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const final = await waitForWorkflow(cli, id, { timeoutMs: 60_000 });
    expect(final.state).toBe('Finished');

    // and each finished in the worker it was pushed to, a worker of that queue, whose pilot read
    // the job from its file and never asked the gateway for one
    const jobs = await jobsOf(id);
    const workers = await workersOf(queue);
    for (const job of jobs) {
      expect(job).toMatchObject({ state: 'finished', workerId: seenStarting.get(job.pandaId) });
      expect(job.metrics?.getjobS ?? 0).toBe(0);
      const worker = workers.find((w) => w.workerId === job.workerId);
      expect(worker).toMatchObject({ state: 'finished', walltimeS: 0 });
      expect(worker!.cores).toBeGreaterThan(0);
      // and its log URL is the pilot's log file (a local worker has no walltime limit)
      expect(worker!.logUrl).toBe(
        pathToFileURL(join(stack.dir, 'work', 'workers', job.workerId, 'pilot.log')).href,
      );
      expect(readFileSync(fileURLToPath(worker!.logUrl), 'utf8')).toBe(pilotLog(job.workerId));
      const log = pilotLog(job.workerId);
      expect(log).toContain('"msg":"job handed over by harvester"');
      expect(log).toContain(`"pandaId":${job.pandaId}`);
      expect(log).toContain('"reason":"maxjobs"');
    }
    expect(new Set(jobs.map((j) => j.workerId)).size).toBe(2);
  });

  it('a queue set offline gets no new workers while its jobs wait; online again, they run', async () => {
    const queue = 'SLAC_Rubin';
    const queues = createGrpcClient(QueueServiceDefinition, server);
    // given SLAC_Rubin set offline in the catalogue file (the server reloads it)
    setStatus(queue, 'offline');
    await waitFor(
      async () => (await queues.getQueue({ name: queue })).status === 'offline',
      'queue offline',
      {
        timeoutMs: 10_000,
      },
    );
    const before = (await workersOf(queue)).length;

    // when a workflow is submitted to it
    const id = await submitWorkflow(
      cli,
      workflowFile(
        'offline',
        queue,
        [
          { name: 'isr_1', command: 'echo one' },
          { name: 'isr_2', command: 'echo two' },
        ],
        500,
      ),
    );

    // then its jobs are activated and wait there, and harvester starts no worker for them
    await waitFor(
      async () => (await queues.queueStats({ queues: [queue] })).stats[0]?.activated === 2,
      'two activated jobs',
      { timeoutMs: 30_000 },
    );
    await sleep(4000); // eight harvester cycles
    expect((await workersOf(queue)).length).toBe(before);
    expect((await queues.queueStats({ queues: [queue] })).stats[0]).toMatchObject({
      activated: 2,
      running: 0,
    });

    // and once it is online again, workers start and the workflow finishes
    setStatus(queue, 'online');
    const final = await waitForWorkflow(cli, id, { timeoutMs: 60_000 });
    expect(final.state).toBe('Finished');
    expect((await workersOf(queue)).length).toBeGreaterThan(before);
  });

  it('serves worker counts by queue and state on /metrics', async () => {
    // given no worker active any more
    await waitFor(
      async () =>
        (await activeWorkers('SLAC_Rubin')).length === 0 &&
        (await activeWorkers('SLAC_Rubin_Extra_Himem')).length === 0,
      'all workers ended',
      { timeoutMs: 30_000 },
    );
    // when Prometheus scrapes harvester
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);

    // then the gauges match the workers harvester lists
    const gauge = (queue: string, state: string) => {
      const m = new RegExp(
        `^panda_harvester_workers\\{queue="${queue}",state="${state}"\\} (\\d+)$`,
        'm',
      ).exec(text);
      return m ? Number(m[1]) : 0;
    };
    for (const queue of ['SLAC_Rubin', 'SLAC_Rubin_Extra_Himem']) {
      const workers = await workersOf(queue);
      const finished = workers.filter((w) => w.state === 'finished').length;
      expect(finished).toBeGreaterThan(0);
      expect(gauge(queue, 'finished')).toBe(finished);
      expect(gauge(queue, 'running')).toBe(0);
    }
    expect(gauge('SLAC_Rubin_Extra_Himem', 'finished')).toBe(2);
    expect(text).toMatch(
      /^panda_harvester_worker_submissions_total\{queue="SLAC_Rubin_Extra_Himem",outcome="submitted"\} 2$/m,
    );
  });
});
