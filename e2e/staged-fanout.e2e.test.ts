import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGrpcClient, openChannel } from '@panda/platform';
import {
  JobServiceDefinition,
  ListJobsRequest,
  TaskServiceDefinition,
  WorkflowServiceDefinition,
} from '@panda/proto';
import type { Job, JobSpec, Workflow, WorkflowSpec } from '@panda/proto';
import { pollFor, startStack } from '@panda/testkit';
import type { Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';

/**
 * Staged fan-out, with the threshold lowered to 3 children: the children's jobs are made at
 * submission (`defined`, behind their parent as gate) and activated together when it
 * finishes; failure, retry, pause, cancel and restart keep their usual meaning.
 */
const dir = scratchDir('panda-e2e-staged-');
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> =>
  pollFor(probe, what, { timeoutMs, intervalMs: 200 });
const job = (name: string, parents: string[], command = 'true'): JobSpec => ({
  name,
  label: name.split('_')[0]!,
  command,
  parents,
  memoryMb: 0,
  cores: 0,
});
const kids = (n: number, parent: string, command = 'true') =>
  Array.from({ length: n }, (_, i) => job(`kid_${i + 1}`, [parent], command));
const FINAL = ['finished', 'failed', 'cancelled', 'closed'];

describe('staged fan-out: jobs made ahead, activated when the parent finishes', () => {
  let stack: Stack;
  let idds: ReturnType<typeof createGrpcClient<typeof WorkflowServiceDefinition>>;
  let jobs: ReturnType<typeof createGrpcClient<typeof JobServiceDefinition>>;
  let tasks: ReturnType<typeof createGrpcClient<typeof TaskServiceDefinition>>;
  let channels: ReturnType<typeof openChannel>[];

  beforeAll(async () => {
    stack = await startStack({
      dir,
      cycleMs: 500,
      serviceEnv: {
        idds: { PANDA_STAGE_FANOUT_MIN: '3' },
        harvester: { PANDA_PILOT_HEARTBEAT_S: '1' },
      },
    });
    channels = [stack.addresses.iddsAddr, stack.addresses.serverAddr, stack.addresses.jediAddr].map((a) =>
      openChannel(a),
    );
    idds = createGrpcClient(WorkflowServiceDefinition, channels[0]!);
    jobs = createGrpcClient(JobServiceDefinition, channels[1]!);
    tasks = createGrpcClient(TaskServiceDefinition, channels[2]!);
  });
  afterAll(async () => {
    channels?.forEach((c) => c.close());
    await stack?.stop();
  });

  const submit = async (name: string, list: JobSpec[], extra: Partial<WorkflowSpec> = {}) =>
    (
      await idds.submitWorkflow({
        workflow: {
          name,
          campaign: 'e2e',
          user: 'tester',
          queue: 'SLAC_Rubin',
          site: '',
          maxAttempts: 2,
          memoryMultiplier: 0,
          memoryMaxMb: 0,
          maxJobsPerTask: 0,
          priority: 0,
          labels: {},
          finalJob: undefined,
          jobs: list,
          ...extra,
        },
      })
    ).workflowId;
  const ended = (workflowId: number) =>
    until<Workflow>('the workflow to end', async () => {
      const wf = await idds.getWorkflow({ workflowId });
      return ['Finished', 'SubFinished', 'Failed', 'Cancelled'].includes(wf.state) ? wf : undefined;
    });
  const jobsOf = async (workflowId: number): Promise<Job[]> =>
    (await jobs.listJobs(ListJobsRequest.fromPartial({ workflowId, limit: 1000 }))).jobs;
  const kidJobs = async (workflowId: number) => (await jobsOf(workflowId)).filter((j) => j.label === 'kid');
  const row = async (workflowId: number, label: string) =>
    (await idds.getReport({ workflowId })).rows.find((r) => r.label === label)!;
  const kidTask = async (workflowId: number) =>
    (await tasks.listTasks({ workflowId })).tasks.find((t) => t.label === 'kid')!;

  it('makes the children at submission and activates them together when the parent finishes', async () => {
    // given a root that runs 3 s with four children, one of which has a child of its own
    const id = await submit('fanout', [
      job('root_1', [], 'sleep 3'),
      ...kids(4, 'root_1', 'sleep 2'),
      job('after_1', ['kid_1']),
    ]);
    // then while the root runs, the children's jobs already exist, waiting `defined` behind it
    const root = await until('the root to run', async () =>
      (await jobsOf(id)).find((j) => j.name === 'root_1' && j.state === 'running'),
    );
    const waiting = await kidJobs(id);
    expect(waiting.map((j) => j.state)).toEqual(['defined', 'defined', 'defined', 'defined']);
    expect(waiting.every((j) => j.gateNodeId > 0 && j.activatedAt === undefined)).toBe(true);
    expect(await row(id, 'kid')).toMatchObject({ unready: 4, ready: 0, expected: 4 });
    expect((await idds.getWorkflow({ workflowId: id })).counts).toMatchObject({ released: 1, unreleased: 5 });
    expect((await jobsOf(id)).some((j) => j.name === 'after_1')).toBe(false);

    // when the root finishes, then the children count as released at once, though still staged
    const released = await until('the children to be released', async () => {
      const r = await row(id, 'kid');
      return r.unready === 0 && r.succeeded === 0 ? r : undefined;
    });
    expect(released.ready + released.pending + released.running).toBe(4);
    expect((await idds.getWorkflow({ workflowId: id })).counts).toMatchObject({ released: 5, unreleased: 1 });
    // and the workflow finishes with one attempt per child
    const wf = await ended(id);
    expect(wf.state).toBe('Finished');
    expect(wf.counts).toMatchObject({ total: 6, released: 6, finished: 6, unreleased: 0 });
    const all = await jobsOf(id);
    const rootDone = all.find((j) => j.pandaId === root.pandaId)!;
    const done = all.filter((j) => j.label === 'kid');
    expect(done.map((j) => `${j.name}:${j.state}:${j.attemptNr}`).sort()).toEqual([
      'kid_1:finished:1',
      'kid_2:finished:1',
      'kid_3:finished:1',
      'kid_4:finished:1',
    ]);
    // and all four were activated at once, after the root ended, never before
    const activated = new Set(done.map((j) => j.activatedAt!.getTime()));
    expect(activated.size).toBe(1);
    expect([...activated][0]!).toBeGreaterThanOrEqual(rootDone.endTime!.getTime());
    expect(all.find((j) => j.name === 'after_1')?.state).toBe('finished');
  });

  it('prunes the staged children when the parent finally fails, closing their jobs; a restart runs them', async () => {
    const mark = join(dir, `fixed-${Date.now()}`);
    // given a root that fails (twice: it has two attempts) until a file exists
    const id = await submit('fanout_fail', [
      job('root_1', [], `test -e ${mark} || { echo "no calibration for detector 12" >&2; exit 2; }`),
      ...kids(3, 'root_1'),
    ]);
    // then after the first failure the children still wait (blocked by the retry)
    await until('the first attempt to fail', async () =>
      (await jobsOf(id)).some((j) => j.name === 'root_1' && j.state === 'failed') ? true : undefined,
    );
    const between = await kidJobs(id);
    expect(between.every((j) => j.state === 'defined' || FINAL.includes(j.state))).toBe(true);

    // when the second attempt fails too
    const wf = await ended(id);
    expect(wf.state).toBe('Failed');
    expect(wf.counts).toMatchObject({ total: 4, failed: 1, pruned: 3 });
    expect(await row(id, 'kid')).toMatchObject({ pruned: 3, unready: 0 });
    // then the waiting jobs were closed, never having run
    const closed = await kidJobs(id);
    expect(closed.map((j) => j.state)).toEqual(['closed', 'closed', 'closed']);
    expect(closed.every((j) => j.startTime === undefined)).toBe(true);

    // when the cause is fixed and the workflow restarted, then root and children run
    writeFileSync(mark, '');
    expect((await idds.restartWorkflow({ workflowId: id })).state).toBe('Transforming');
    const again = await ended(id);
    expect(again.state).toBe('Finished');
    expect(again.counts).toMatchObject({ total: 4, finished: 4, pruned: 0, failed: 0 });
    const finished = (await kidJobs(id)).filter((j) => j.state === 'finished');
    expect(finished.map((j) => j.name).sort()).toEqual(['kid_1', 'kid_2', 'kid_3']);
  });

  it('holds the children of a paused task when the gate opens; a resume runs them', async () => {
    // given the children's task paused while the root runs
    const id = await submit('fanout_pause', [job('root_1', [], 'sleep 2'), ...kids(3, 'root_1')]);
    await until('the children to be staged', async () =>
      (await kidJobs(id)).length === 3 ? true : undefined,
    );
    const task = await kidTask(id);
    await tasks.pauseTask({ taskId: task.taskId, hard: false, priority: 0 });
    // when the root finishes, then the children are held (throttled), not run
    await until('the children to be held', async () =>
      (await kidJobs(id)).every((j) => j.state === 'throttled') ? true : undefined,
    );
    expect(await row(id, 'kid')).toMatchObject({ held: 3 });
    // when resumed, then they run and the workflow finishes
    await tasks.resumeTask({ taskId: task.taskId, hard: false, priority: 0 });
    expect((await ended(id)).state).toBe('Finished');
  });

  it('leaves children no queue fits unstaged: they are released the usual way, then wait for a queue', async () => {
    // given children that need more memory than any queue offers
    const id = await submit('fanout_nofit', [job('root_1', [], 'sleep 1'), ...kids(3, 'root_1')], {
      labels: {
        kid: {
          memoryMb: 400_000,
          cores: 0,
          walltimeS: 0,
          queue: '',
          site: '',
          maxAttempts: 0,
          memoryMultiplier: 0,
          memoryMaxMb: 0,
          priority: 0,
          environment: {},
        },
      },
    });
    // then no job was made ahead for them, and idds counts them unreleased
    expect(await kidJobs(id)).toEqual([]);
    expect(await row(id, 'kid')).toMatchObject({ unready: 3 });
    // when the root finishes, then they are released and their task waits for a queue
    await until('the children to be released', async () => {
      const r = await row(id, 'kid');
      return r.unready === 0 && r.ready === 3 ? true : undefined;
    });
    const task = await until('the task to say why it waits', async () => {
      const t = await kidTask(id);
      return t.state === 'pending' ? t : undefined;
    });
    expect(task.pendingReason).toMatch(/no queue .* fits/);
    expect(await kidJobs(id)).toEqual([]);
    expect((await idds.cancelWorkflow({ workflowId: id })).state).toBe('Cancelled');
  });

  it('cancels a workflow with staged children waiting, then a restart finishes it', async () => {
    const mark = join(dir, `hang-${Date.now()}`);
    // given a root that hangs the first time it runs, with three staged children
    const id = await submit('fanout_cancel', [
      job('root_1', [], `if [ -e ${mark} ]; then exit 0; fi; touch ${mark}; sleep 89`),
      ...kids(3, 'root_1'),
    ]);
    await until('the root to run', async () =>
      (await jobsOf(id)).some((j) => j.name === 'root_1' && j.state === 'running') && existsSync(mark)
        ? true
        : undefined,
    );
    // when cancelled, then every job ends, the waiting children without running
    expect((await idds.cancelWorkflow({ workflowId: id })).state).toBe('Cancelled');
    await until('every job to end', async () =>
      (await jobsOf(id)).every((j) => FINAL.includes(j.state)) ? true : undefined,
    );
    const killed = await kidJobs(id);
    expect(killed.every((j) => j.state === 'cancelled' && j.startTime === undefined)).toBe(true);
    // when restarted, then root and children run to the end
    expect((await idds.restartWorkflow({ workflowId: id })).state).toBe('Transforming');
    const wf = await ended(id);
    expect(wf.state).toBe('Finished');
    expect(wf.counts).toMatchObject({ total: 4, finished: 4 });
  });
});
