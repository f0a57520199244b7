import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '@panda/platform';
import { startSlurm } from '@panda/testkit';
import type { SlurmHandle } from '@panda/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerRef, WorkerSpec, WorkerStatus } from '../types.js';
import { WORKER_OOM_ERROR } from '../types.js';
import { SlurmSubmitter } from './slurm.js';

const logger = createLogger({ service: 'harvester-test', level: 'silent' });
let slurm: SlurmHandle;
let workDir: string;

beforeAll(async () => {
  // given a real single-node Slurm (slurm-wlm + munge) in a temp folder
  slurm = await startSlurm({ cpus: 16 });
  workDir = await mkdtemp(join(tmpdir(), 'harvester-slurm-'));
});
afterAll(async () => {
  await slurm?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function plugin(command: string): SlurmSubmitter {
  return new SlurmSubmitter({
    command,
    workDir,
    gatewayUrl: 'http://127.0.0.1:9',
    heartbeatS: 60,
    baseEnv: { PATH: process.env['PATH'], ...slurm.env },
    logger,
  });
}

const spec = (workerId: string, memoryMb = 200, params: Record<string, unknown> = {}): WorkerSpec => ({
  workerId,
  queue: 'SLAC_Rubin_Slurm',
  cores: 1,
  memoryMb,
  walltimeS: 600,
  params: { partition: 'rubin', ...params },
});

async function until(
  p: SlurmSubmitter,
  w: WorkerRef,
  done: (s: WorkerStatus) => boolean,
): Promise<WorkerStatus> {
  const end = Date.now() + 30_000;
  for (;;) {
    const [s] = await p.check([w]);
    if (done(s!)) return s!;
    if (Date.now() > end) throw new Error(`worker still ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const ended = (s: WorkerStatus) => s.state !== 'submitted' && s.state !== 'running';

describe('SlurmSubmitter against a real Slurm', () => {
  it('submits a pilot script with the queue settings and sees it finish', async () => {
    // given a "pilot" that prints its settings
    const p = plugin(
      'echo "$PANDA_PILOT_QUEUE $PANDA_PILOT_WORKER_ID $PANDA_PILOT_MEMORY_MB $PANDA_PILOT_CORES $SLURM_JOB_PARTITION $SLURM_MEM_PER_NODE"',
    );
    // when it is submitted
    const { batchId, state, walltimeS, logUrl } = await p.submit(spec('w-ok'));
    expect(batchId).toMatch(/^\d+$/);
    expect(state).toBe('submitted');
    // with the walltime it asked for (--time=10 minutes) and its output file as log URL
    expect(walltimeS).toBe(600);
    expect(logUrl).toBe(pathToFileURL(join(p.workerDir('w-ok'), `slurm-${batchId}.out`)).href);
    const w = { workerId: 'w-ok', queue: 'SLAC_Rubin_Slurm', batchId };
    // then Slurm runs it to COMPLETED, which is `finished`, with the settings in its env
    const s = await until(p, w, ended);
    expect(s).toMatchObject({ state: 'finished', exitCode: 0, nativeStatus: 'COMPLETED' });
    const out = await readFile(fileURLToPath(logUrl!), 'utf8');
    expect(out.trim()).toBe('SLAC_Rubin_Slurm w-ok 200 1 rubin 200');
    const script = await readFile(join(p.workerDir('w-ok'), 'submit.sh'), 'utf8');
    expect(script).toContain('#SBATCH --mem=200');
    expect(script).toContain('#SBATCH --time=10');
    // and sweep removes the worker folder
    await p.sweep(w);
    await expect(readFile(join(p.workerDir('w-ok'), 'submit.sh'))).rejects.toThrow();
  });

  it('reports a non-zero exit as failed, scancel as cancelled, a memory kill with the OOM code', async () => {
    const failing = plugin('exit 3');
    const sleeping = plugin('sleep 60');
    const hungry = plugin(`python3 -c "x = bytearray(400 * 1024 * 1024); import time; time.sleep(10)"`);
    // when three workers are submitted in one go and one is killed
    const [a, b, c] = await Promise.all([
      failing.submit(spec('w-fail')),
      sleeping.submit(spec('w-kill')),
      hungry.submit(spec('w-oom', 100)),
    ]);
    const wa = { workerId: 'w-fail', queue: 'Q', batchId: a.batchId };
    const wb = { workerId: 'w-kill', queue: 'Q', batchId: b.batchId };
    const wc = { workerId: 'w-oom', queue: 'Q', batchId: c.batchId };
    await until(sleeping, wb, (s) => s.state === 'running');
    await sleeping.kill(wb);

    // then each ends as Slurm says, checked in one chunked squeue call
    const fail = await until(failing, wa, ended);
    expect(fail).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(fail.errorCode).toBeUndefined();
    expect(await until(sleeping, wb, ended)).toMatchObject({ state: 'cancelled', nativeStatus: 'CANCELLED' });
    // (OverMemoryKill: slurmstepd SIGKILLs the whole batch step; Slurm 22.05 says FAILED, 0:9)
    const oom = await until(hungry, wc, ended);
    expect(oom).toMatchObject({ state: 'failed', errorCode: WORKER_OOM_ERROR, exitCode: 137 });
    expect(oom.nativeStatus).toMatch(/^FAILED\b/);
    expect(oom.diag).toMatch(
      new RegExp(
        `exceeded its memory limit: StepId=${c.batchId}\\.batch used \\d+ MB > limit 100 MB; ended FAILED`,
      ),
    );
    const all = await plugin('true').check([wa, wb, wc, { workerId: 'gone', queue: 'Q', batchId: '999999' }]);
    expect(all.map((s) => s.state)).toEqual(['failed', 'cancelled', 'failed', 'missed']);
  });

  it('refuses a worker sbatch rejects', async () => {
    await expect(plugin('true').submit(spec('w-bad', 200, { partition: 'nosuch' }))).rejects.toThrow(
      /sbatch exited 1: .*partition/i,
    );
  });
});
