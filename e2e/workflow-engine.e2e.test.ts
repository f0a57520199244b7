import { join } from 'node:path';
import type { FinalJobSpec } from '@panda/proto';
import { startStack } from '@panda/testkit';
import type { Stack } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from './support/scratch-dir.js';
import { FINAL_JOB_STATES, jobSpec as job, labelDefaults, workflowKit } from './support/workflow-kit.js';

const dir = scratchDir('panda-e2e-dag-');
const final = (whenRun: string): FinalJobSpec => ({
  command: 'echo merging outputs',
  whenRun,
  memoryMb: 0,
  cores: 0,
  queue: '',
  environment: {},
});

describe('workflow engine: release, pruning, final job, cancel and restart', () => {
  let stack: Stack;
  const kit = workflowKit(() => stack);
  const { until, submit, ended, jobsOf, row } = kit;

  beforeAll(async () => {
    stack = await startStack({
      dir,
      cycleMs: 500,
      serviceEnv: { harvester: { PANDA_PILOT_HEARTBEAT_S: '1' } },
    });
  });
  afterAll(async () => {
    kit.close();
    await stack?.stop();
  });

  it('prunes only once every parent is settled, cascades, and runs the final job ALWAYS', async () => {
    // given: root -> bad (always fails) and slow (succeeds after 4 s); join waits for both; tail after join
    const id = await submit(
      'prune',
      [
        job('root_1', []),
        job('bad_1', ['root_1'], 'echo "only 0 sources, but require at least 2." >&2; exit 3'),
        job('slow_1', ['root_1'], 'sleep 4'),
        job('join_1', ['bad_1', 'slow_1']),
        job('tail_1', ['join_1']),
      ],
      { finalJob: final('ALWAYS') },
    );
    // when bad has finally failed while slow still runs, then join is still waiting, not pruned
    await until('bad to fail twice', async () => {
      const failed = (await jobsOf(id)).filter((j) => j.name === 'bad_1' && j.state === 'failed');
      return failed.length === 2 ? true : undefined;
    });
    const slowRunning = (await jobsOf(id)).some((j) => j.name === 'slow_1' && j.state !== 'finished');
    if (slowRunning) expect(await row(id, 'join')).toMatchObject({ unready: 1, pruned: 0 });
    // then when everything settles: join and tail pruned, the final job ran anyway
    const wf = await ended(id);
    expect(wf.state).toBe('SubFinished');
    expect(wf.counts).toMatchObject({ total: 6, finished: 3, failed: 1, pruned: 2, remaining: 0 });
    expect(await row(id, 'finalJob')).toMatchObject({ succeeded: 1 });
    expect(await row(id, 'tail')).toMatchObject({ pruned: 1 });
    // and the report carries the payload exit codes per label
    const report = await kit.idds.getReport({ workflowId: id });
    expect(report.exitCodes).toEqual([{ label: 'bad', exitCode: 3, count: 2 }]);
  });

  it('prunes a SUCCESS final job after a failure, and runs it when all succeeded', async () => {
    const failing = await submit('final_success', [job('a_1', [], 'exit 1')], {
      finalJob: final('SUCCESS'),
      maxAttempts: 1,
    });
    expect((await ended(failing)).counts).toMatchObject({ failed: 1, pruned: 1 });
    const passing = await submit('final_success_ok', [job('a_1', [])], { finalJob: final('SUCCESS') });
    const wf = await ended(passing);
    expect(wf.state).toBe('Finished');
    expect(wf.counts).toMatchObject({ total: 2, finished: 2 });
  });

  it('applies label defaults: memory brokers to the fitting queue, the environment is exported', async () => {
    const id = await submit('labels', [job('big_1', [], 'test "$BUTLER_REPO" = /repo/main')], {
      labels: { big: labelDefaults({ memoryMb: 6000, environment: { BUTLER_REPO: '/repo/main' } }) },
    });
    expect((await ended(id)).state).toBe('Finished');
    const [j] = await jobsOf(id);
    expect(j).toMatchObject({ memoryMb: 6000, queue: 'SLAC_Rubin_Medium', state: 'finished' });
  });

  it('cancels a running workflow, then a restart re-runs what did not finish', async () => {
    const mark = join(dir, `cancel-${Date.now()}`);
    // given a workflow whose second job hangs the first time it runs
    const id = await submit('cancel', [
      job('first_1', []),
      job('hang_1', ['first_1'], `if [ -e ${mark} ]; then exit 0; fi; touch ${mark}; sleep 89`),
      job('after_1', ['hang_1']),
    ]);
    await until('hang to run', async () =>
      (await jobsOf(id)).some((j) => j.name === 'hang_1' && j.state === 'running') ? true : undefined,
    );
    // when cancelled (twice: idempotent)
    expect((await kit.idds.cancelWorkflow({ workflowId: id })).state).toBe('Cancelled');
    expect((await kit.idds.cancelWorkflow({ workflowId: id })).state).toBe('Cancelled');
    // then the running job is killed at its next heartbeat
    await until('the kill to land', async () =>
      (await jobsOf(id)).every((j) => FINAL_JOB_STATES.includes(j.state)) ? true : undefined,
    );
    expect((await jobsOf(id)).find((j) => j.name === 'hang_1')!.state).toBe('cancelled');
    // when restarted, only what did not finish runs again, and the workflow finishes
    expect((await kit.idds.restartWorkflow({ workflowId: id })).state).toBe('Transforming');
    const wf = await ended(id);
    expect(wf.state).toBe('Finished');
    const names = (await jobsOf(id)).map((j) => `${j.name}:${j.state}`);
    expect(names.filter((n) => n.startsWith('first_1'))).toEqual(['first_1:finished']);
    expect(names).toContain('hang_1:finished');
    expect(names).toContain('after_1:finished');
  });
});
