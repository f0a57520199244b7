import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import {
  JobServiceDefinition,
  ListJobsRequest,
  TaskServiceDefinition,
  WorkflowServiceDefinition,
} from '@panda/proto';
import type { Job, JobSpec } from '@panda/proto';
import { findProcessesWithEnv, pollFor, repoRootDir, startStack } from '@panda/testkit';
import type { Stack } from '@panda/testkit';
import { Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';

const root = repoRootDir();
const dir = scratchDir('panda-e2e-engine-');

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  pollFor(probe, what, { timeoutMs, intervalMs: 250 });

describe('job and task engine through the whole stack', () => {
  let stack: Stack;
  let clients: ReturnType<typeof makeClients>;

  function makeClients(s: Stack) {
    const channels = [
      openChannel(s.addresses.iddsAddr),
      openChannel(s.addresses.jediAddr),
      openChannel(s.addresses.serverAddr),
    ];
    return {
      idds: createGrpcClient(WorkflowServiceDefinition, channels[0]!),
      jedi: createGrpcClient(TaskServiceDefinition, channels[1]!),
      jobs: createGrpcClient(JobServiceDefinition, channels[2]!),
      close: () => channels.forEach((c) => c.close()),
    };
  }

  beforeAll(async () => {
    // given queues whose heartbeat timeout is 3 s, pilots that beat every second, a fast watchdog
    const catalogue = JSON.parse(readFileSync(join(root, 'config', 'queues.json'), 'utf8')) as {
      queues: Record<string, unknown>[];
    };
    for (const q of catalogue.queues) q.timeouts = { heartbeatS: 3, sentS: 30, holdingS: 60 };
    const queuesFile = join(dir, 'queues.json');
    writeFileSync(queuesFile, JSON.stringify(catalogue));
    stack = await startStack({
      dir,
      queuesFile,
      cycleMs: 500,
      serviceEnv: {
        server: { PANDA_WATCHDOG_EVERY_MS: '500' },
        harvester: {
          PANDA_PILOT_HEARTBEAT_S: '1',
          // The payload is killed as soon as its PSS passes the job's memory (grace 1).
          PANDA_PILOT_COMMAND: `'${process.execPath}' '${join(root, 'services/pilot/dist/main.js')}' --memory-grace 1 --monitor-interval-s 0.5`,
        },
        jedi: { PANDA_PENDING_EVERY_MS: '1000' },
      },
    });
    clients = makeClients(stack);
  });
  afterAll(async () => {
    clients?.close();
    await stack?.stop();
  });

  const submit = async (name: string, queue: string, jobs: Partial<JobSpec>[], extra = {}) => {
    const { workflowId } = await clients.idds.submitWorkflow({
      workflow: {
        name,
        campaign: 'e2e',
        user: 'tester',
        queue,
        site: '',
        maxAttempts: 2,
        memoryMultiplier: 0,
        memoryMaxMb: 0,
        jobs: jobs.map((j, i) => ({
          name: `${name}_${i}`,
          label: 'step',
          command: 'true',
          parents: [],
          memoryMb: 1000,
          cores: 1,
          ...j,
        })),
        ...extra,
      },
    });
    const task = await until('the task', async () => (await clients.jedi.listTasks({ workflowId })).tasks[0]);
    return { workflowId, taskId: task.taskId };
  };
  const jobsOf = async (workflowId: number, state = ''): Promise<Job[]> =>
    (await clients.jobs.listJobs(ListJobsRequest.fromPartial({ workflowId, state, limit: 100 }))).jobs;
  const workflowEnds = (workflowId: number) =>
    until(
      'the workflow to end',
      async () => {
        const wf = await clients.idds.getWorkflow({ workflowId });
        return ['Finished', 'SubFinished', 'Failed', 'Cancelled'].includes(wf.state) ? wf : undefined;
      },
      90_000,
    );

  it('refuses commands in the wrong state, pauses and resumes queued jobs, and kills a task', async () => {
    // given a task on a queue that gets no pilots (brokerage off), so its jobs stay queued
    const { workflowId, taskId } = await submit('queued', 'SLAC_Rubin_merge', [{}, {}]);
    await until('activated jobs', async () =>
      (await jobsOf(workflowId, 'activated')).length === 2 ? true : undefined,
    );
    // when a command is given in the wrong state, then it is refused and nothing changes
    await expect(clients.jedi.retryTask({ taskId, hard: false, priority: 0 })).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
      details: expect.stringMatching(/is running: retry is allowed only when finished, failed, exhausted/),
    });
    await expect(clients.jedi.resumeTask({ taskId, hard: false, priority: 0 })).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
    });
    // when paused, its jobs are throttled; when resumed, activated again
    expect((await clients.jedi.pauseTask({ taskId, hard: false, priority: 0 })).state).toBe('paused');
    expect(await jobsOf(workflowId, 'throttled')).toHaveLength(2);
    expect((await clients.jedi.resumeTask({ taskId, hard: false, priority: 0 })).state).toBe('running');
    expect(await jobsOf(workflowId, 'activated')).toHaveLength(2);
    // when its priority changes, so does its jobs'
    await clients.jedi.setTaskPriority({ taskId, hard: false, priority: 1234 });
    expect((await jobsOf(workflowId)).every((j) => j.priority === 1234)).toBe(true);
    // when killed, queued jobs end cancelled, the task is aborted and the workflow fails
    await clients.jedi.killTask({ taskId, hard: false, priority: 0 });
    const wf = await workflowEnds(workflowId);
    expect(wf.state).toBe('Failed');
    expect((await jobsOf(workflowId)).map((j) => j.state)).toEqual(['cancelled', 'cancelled']);
    expect((await clients.jedi.getTask({ taskId })).state).toBe('aborted');
    await expect(clients.jedi.killTask({ taskId, hard: false, priority: 0 })).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
    });
  });

  it('leaves a task pending, with the reason, when no queue fits its jobs', async () => {
    // given a job needing more memory than any SLAC queue offers
    const { taskId } = await submit('toobig', '', [{ memoryMb: 300_000 }], { site: 'SLAC' });
    // then brokerage finds no queue and says why
    const task = await until('the task to be pending', async () => {
      const t = await clients.jedi.getTask({ taskId });
      return t.state === 'pending' ? t : undefined;
    });
    expect(task.pendingReason).toMatch(
      /no queue at site SLAC fits: .*SLAC_Rubin_Himem takes 8000-18000 MB, job needs 300000 MB/,
    );
    await clients.jedi.killTask({ taskId, hard: false, priority: 0 });
  });

  it('retries a job that ran out of memory with boosted memory, on the larger queue, and it succeeds', async () => {
    // given a 3000 MB job that really uses 3500 MB, on SLAC_Rubin (0-4000 MB), multiplier 2
    const hog = `python3 -c "import time; b = b'x' * (3500 * 1024 * 1024); time.sleep(4)"`;
    const { workflowId } = await submit('hog', 'SLAC_Rubin', [{ command: hog, memoryMb: 3000 }], {
      memoryMultiplier: 2,
    });
    // when it runs
    const wf = await until(
      'the workflow to end',
      async () => {
        const w = await clients.idds.getWorkflow({ workflowId });
        return ['Finished', 'SubFinished', 'Failed'].includes(w.state) ? w : undefined;
      },
      120_000,
    );
    // then the first attempt was killed for memory (1235), the second had 6000 MB on the Medium queue
    const jobs = await jobsOf(workflowId);
    expect(jobs.map((j) => [j.attemptNr, j.state, j.memoryMb, j.queue])).toEqual([
      [1, 'failed', 3000, 'SLAC_Rubin'],
      [2, 'finished', 6000, 'SLAC_Rubin_Medium'],
    ]);
    expect(jobs[0]!.errors).toContainEqual(expect.objectContaining({ source: 'pilot', code: 1235 }));
    expect(jobs[0]!.metrics!.maxPssKb).toBeGreaterThan(3000 * 1024);
    expect(wf.state).toBe('Finished');
  });

  it('gets a kill to a running pilot within one heartbeat', async () => {
    // given a long payload running
    const { workflowId, taskId } = await submit('killme', 'SLAC_Rubin', [{ command: 'sleep 97' }]);
    await until('the job to run', async () =>
      (await jobsOf(workflowId, 'running')).length ? true : undefined,
    );
    // when its task is killed
    const started = Date.now();
    await clients.jedi.killTask({ taskId, hard: false, priority: 0 });
    const [ended] = await until('the job to end', async () => {
      const jobs = await jobsOf(workflowId);
      return jobs.every((j) => j.state === 'cancelled') ? jobs : undefined;
    });
    // then the pilot killed the payload (1144) within a heartbeat (1 s) plus reporting time
    expect(Date.now() - started).toBeLessThan(6000);
    expect(ended!.errors).toContainEqual(expect.objectContaining({ source: 'pilot', code: 1144 }));
  });

  it('fails a job whose pilot went silent (lost heartbeat) and retries it without charging the user', async () => {
    // given a payload that hangs the first time only, on a task with maxAttempts 1
    const mark = join(dir, `ran-once-${Date.now()}`);
    const { workflowId } = await submit(
      'vanish',
      'SLAC_Rubin',
      [{ command: `if [ -e ${mark} ]; then echo second; exit 0; fi; touch ${mark}; sleep 93` }],
      { maxAttempts: 1 },
    );
    const [running] = await until('the job to run', async () => {
      const jobs = await jobsOf(workflowId, 'running');
      return jobs.length ? jobs : undefined;
    });
    // when its pilot freezes (alive, so its worker has not ended, but silent)
    const pilots = findProcessesWithEnv('PANDA_PILOT_WORKER_ID', running!.workerId);
    expect(pilots.length).toBeGreaterThan(0);
    for (const pid of pilots) process.kill(pid, 'SIGSTOP');
    try {
      execFileSync('pkill', ['-KILL', '-f', `touch ${mark}; sleep 93`]);
    } catch {
      // the payload may have gone with its pilot
    }
    // then the watchdog fails it with "lost heartbeat", jedi retries it, and the workflow finishes
    const wf = await workflowEnds(workflowId);
    expect(wf.state).toBe('Finished');
    const jobs = await jobsOf(workflowId);
    expect(jobs.map((j) => [j.attemptNr, j.state])).toEqual([
      [1, 'failed'],
      [2, 'finished'],
    ]);
    expect(jobs[0]!.errors).toContainEqual(expect.objectContaining({ source: 'dispatcher', code: 100 }));
    for (const pid of pilots) process.kill(pid, 'SIGKILL');
  });
});
