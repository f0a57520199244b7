import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack } from '@panda/testkit';
import type { Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';
import {
  FINAL_JOB_STATES as FINAL,
  jobSpec as job,
  labelDefaults,
  workflowKit,
} from './support/workflow-kit.js';

/**
 * Staged fan-out, with the threshold lowered to 3 children: the children's jobs are made at
 * submission (`defined`, behind their parent as gate) and activated together when it
 * finishes; failure, retry, pause, cancel and restart keep their usual meaning.
 */
const dir = scratchDir('panda-e2e-staged-');
const kids = (n: number, parent: string, command = 'true') =>
  Array.from({ length: n }, (_, i) => job(`kid_${i + 1}`, [parent], command));

describe('staged fan-out: jobs made ahead, activated when the parent finishes', () => {
  let stack: Stack;
  const kit = workflowKit(() => stack, 200);
  const { until, submit, ended, jobsOf, row } = kit;
  const kidJobs = async (workflowId: number) => (await jobsOf(workflowId)).filter((j) => j.label === 'kid');
  const kidTask = async (workflowId: number) =>
    (await kit.tasks.listTasks({ workflowId })).tasks.find((t) => t.label === 'kid')!;

  beforeAll(async () => {
    stack = await startStack({
      dir,
      cycleMs: 500,
      serviceEnv: {
        idds: { PANDA_STAGE_FANOUT_MIN: '3' },
        harvester: { PANDA_PILOT_HEARTBEAT_S: '1' },
      },
    });
  });
  afterAll(async () => {
    kit.close();
    await stack?.stop();
  });

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
    expect((await kit.idds.getWorkflow({ workflowId: id })).counts).toMatchObject({
      released: 1,
      unreleased: 5,
    });
    expect((await jobsOf(id)).some((j) => j.name === 'after_1')).toBe(false);

    // when the root finishes, then the children count as released at once, though still staged
    const released = await until('the children to be released', async () => {
      const r = await row(id, 'kid');
      return r.unready === 0 && r.succeeded === 0 ? r : undefined;
    });
    expect(released.ready + released.pending + released.running).toBe(4);
    expect((await kit.idds.getWorkflow({ workflowId: id })).counts).toMatchObject({
      released: 5,
      unreleased: 1,
    });
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
    expect((await kit.idds.restartWorkflow({ workflowId: id })).state).toBe('Transforming');
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
    await kit.tasks.pauseTask({ taskId: task.taskId, hard: false, priority: 0 });
    // when the root finishes, then the children are held (throttled), not run
    await until('the children to be held', async () =>
      (await kidJobs(id)).every((j) => j.state === 'throttled') ? true : undefined,
    );
    expect(await row(id, 'kid')).toMatchObject({ held: 3 });
    // when resumed, then they run and the workflow finishes
    await kit.tasks.resumeTask({ taskId: task.taskId, hard: false, priority: 0 });
    expect((await ended(id)).state).toBe('Finished');
  });

  it('leaves children no queue fits unstaged: they are released the usual way, then wait for a queue', async () => {
    // given children that need more memory than any queue offers
    const id = await submit('fanout_nofit', [job('root_1', [], 'sleep 1'), ...kids(3, 'root_1')], {
      labels: { kid: labelDefaults({ memoryMb: 400_000 }) },
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
    expect((await kit.idds.cancelWorkflow({ workflowId: id })).state).toBe('Cancelled');
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
    expect((await kit.idds.cancelWorkflow({ workflowId: id })).state).toBe('Cancelled');
    await until('every job to end', async () =>
      (await jobsOf(id)).every((j) => FINAL.includes(j.state)) ? true : undefined,
    );
    const killed = await kidJobs(id);
    expect(killed.every((j) => j.state === 'cancelled' && j.startTime === undefined)).toBe(true);
    // when restarted, then root and children run to the end
    expect((await kit.idds.restartWorkflow({ workflowId: id })).state).toBe('Transforming');
    const wf = await ended(id);
    expect(wf.state).toBe('Finished');
    expect(wf.counts).toMatchObject({ total: 4, finished: 4 });
  });
});
