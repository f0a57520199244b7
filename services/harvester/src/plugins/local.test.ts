import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '@panda/platform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSubmitter } from './local.js';
import type { WorkerSpec } from './types.js';

const logger = createLogger({ service: 'harvester-test', level: 'silent' });
let workDir: string;
let plugin: LocalSubmitter | undefined;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'harvester-local-'));
});
afterEach(async () => {
  await plugin?.stopAll(2000);
  plugin = undefined;
  await rm(workDir, { recursive: true, force: true });
});

const spec = (workerId: string): WorkerSpec => ({
  workerId,
  queue: 'SLAC_Rubin',
  cores: 2,
  memoryMb: 4000,
  walltimeS: 86400,
  params: {},
});

function local(command: string, onExit?: () => void): LocalSubmitter {
  plugin = new LocalSubmitter({
    command,
    workDir,
    gatewayUrl: 'http://127.0.0.1:9',
    heartbeatS: 60,
    baseEnv: { PATH: process.env.PATH },
    logger,
    onExit,
  });
  return plugin;
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('LocalSubmitter', () => {
  it('hands the pilot its token, and a push worker its job file and a one-job limit', async () => {
    const p = local(
      'echo "[$PANDA_PILOT_TOKEN] [$PANDA_PILOT_JOB_FILE] [$PANDA_PILOT_MAX_JOBS]"; cat "$PANDA_PILOT_JOB_FILE"',
    );
    const job = { pandaId: 7, json: { pandaId: 7, state: 'starting', command: 'echo hi' } };
    const result = await p.submit({ ...spec('w-push'), token: 'v1.abc.def', job });
    const ref = { workerId: 'w-push', queue: 'SLAC_Rubin', batchId: result.batchId };
    await until(async () => (await p.check([ref]))[0]!.state !== 'running');
    const dir = join(workDir, 'workers', 'w-push');
    const file = join(dir, 'pandaJobData.json');
    expect(await readFile(join(dir, 'pilot.log'), 'utf8')).toBe(
      `[v1.abc.def] [${file}] [1]\n${JSON.stringify(job.json)}\n`,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    // and a pull worker without a token gets none of these
    const q = local('echo "[$PANDA_PILOT_TOKEN] [$PANDA_PILOT_JOB_FILE] [$PANDA_PILOT_MAX_JOBS]"');
    const pulled = await q.submit(spec('w-pull'));
    const ref2 = { workerId: 'w-pull', queue: 'SLAC_Rubin', batchId: pulled.batchId };
    await until(async () => (await q.check([ref2]))[0]!.state !== 'running');
    expect(await readFile(join(workDir, 'workers', 'w-pull', 'pilot.log'), 'utf8')).toBe('[] [] []\n');
  });

  it('starts the pilot with its settings in the environment and logs to pilot.log', async () => {
    let exits = 0;
    const p = local(
      'echo "$PANDA_PILOT_QUEUE $PANDA_PILOT_WORKER_ID $PANDA_PILOT_GATEWAY_URL $PANDA_PILOT_WORK_DIR $PANDA_PILOT_HEARTBEAT_S $PANDA_PILOT_MEMORY_MB $PANDA_PILOT_CORES [$PANDA_PILOT_WALLTIME_S]"',
      () => exits++,
    );
    const result = await p.submit(spec('w1'));
    expect(result.state).toBe('running');
    expect(Number(result.batchId)).toBeGreaterThan(0);
    const ref = { workerId: 'w1', queue: 'SLAC_Rubin', batchId: result.batchId };
    await until(async () => (await p.check([ref]))[0]!.state !== 'running');
    expect((await p.check([ref]))[0]).toMatchObject({ workerId: 'w1', state: 'finished', exitCode: 0 });
    expect(exits).toBe(1);
    const dir = join(workDir, 'workers', 'w1');
    expect(await readFile(join(dir, 'pilot.log'), 'utf8')).toBe(
      `SLAC_Rubin w1 http://127.0.0.1:9 ${dir} 60 4000 2 []\n`,
    );
    // and the worker's log URL is that file, and it has no walltime limit
    expect(result.logUrl).toBe(pathToFileURL(join(dir, 'pilot.log')).href);
    expect(await readFile(fileURLToPath(result.logUrl!), 'utf8')).toContain('SLAC_Rubin w1');
    expect(result.walltimeS).toBe(0);
  });

  it('gives an absolute file:// log URL for a relative work dir, escaping odd characters', () => {
    const p = new LocalSubmitter({
      command: 'true',
      workDir: 'rel dir',
      gatewayUrl: 'http://127.0.0.1:9',
      heartbeatS: 60,
      baseEnv: {},
      logger,
    });
    const url = p.logUrl('w#1');
    expect(url).toMatch(/^file:\/\/\//);
    expect(url).toContain('/rel%20dir/workers/w%231/pilot.log');
    expect(fileURLToPath(url)).toBe(resolve('rel dir', 'workers', 'w#1', 'pilot.log'));
  });

  it('reports failed with the exit code when the pilot exits non-zero', async () => {
    const p = local('echo oops >&2; exit 3');
    const { batchId } = await p.submit(spec('w2'));
    const ref = { workerId: 'w2', queue: 'SLAC_Rubin', batchId };
    await until(async () => (await p.check([ref]))[0]!.state !== 'running');
    const [status] = await p.check([ref]);
    expect(status).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(status!.diag).toContain('code 3');
    expect(await readFile(join(workDir, 'workers', 'w2', 'pilot.log'), 'utf8')).toBe('oops\n');
  });

  it('reports running while the pilot lives and cancelled after kill', async () => {
    const p = local('sleep 30');
    const { batchId } = await p.submit(spec('w3'));
    const ref = { workerId: 'w3', queue: 'SLAC_Rubin', batchId };
    expect((await p.check([ref]))[0]!.state).toBe('running');
    expect(p.liveWorkerIds()).toEqual(['w3']);
    await p.kill(ref);
    await until(async () => (await p.check([ref]))[0]!.state !== 'running');
    expect((await p.check([ref]))[0]).toMatchObject({ state: 'cancelled', diag: 'killed by harvester' });
  });

  it('stopAll SIGTERMs the pilots, then SIGKILLs those that ignore it', async () => {
    const p = local("trap '' TERM; sleep 30 & wait; sleep 30");
    const { batchId } = await p.submit(spec('w4'));
    const started = Date.now();
    await p.stopAll(300);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(p.liveWorkerIds()).toEqual([]);
    const [status] = await p.check([{ workerId: 'w4', queue: 'SLAC_Rubin', batchId }]);
    expect(status!.state).toBe('cancelled');
  });

  it('treats the worker as ended only when its whole process group is gone', async () => {
    // The shell dies of SIGTERM at once; the "pilot" in the same group needs 400 ms to report.
    const p = local("(trap 'sleep 0.4; exit 0' TERM; while :; do sleep 0.05; done) & wait");
    const { batchId } = await p.submit(spec('w7'));
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    await p.stopAll(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    const [status] = await p.check([{ workerId: 'w7', queue: 'SLAC_Rubin', batchId }]);
    expect(status!.state).toBe('cancelled');
  });

  it('marks a worker without pid missed and a vanished pid of an earlier harvester missed', async () => {
    const p = local('true');
    // A process group this plugin did not start, as after a harvester restart.
    const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      const statuses = await p.check([
        { workerId: 'a', queue: 'q', batchId: '' },
        { workerId: 'b', queue: 'q', batchId: '999999999' },
        { workerId: 'c', queue: 'q', batchId: String(other.pid) },
      ]);
      expect(statuses.map((s) => s.state)).toEqual(['missed', 'missed', 'running']);
      await p.kill({ workerId: 'c', queue: 'q', batchId: String(other.pid) });
      await until(
        async () =>
          (await p.check([{ workerId: 'c', queue: 'q', batchId: String(other.pid) }]))[0]!.state !==
          'running',
      );
      expect((await p.check([{ workerId: 'c', queue: 'q', batchId: String(other.pid) }]))[0]!.state).toBe(
        'cancelled',
      );
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('throws when the pilot cannot be started and sweeps the worker dir', async () => {
    const p = local('true');
    await p.submit(spec('w5'));
    await p.sweep({ workerId: 'w5', queue: 'q', batchId: '' });
    await expect(stat(join(workDir, 'workers', 'w5'))).rejects.toThrow();
    const notADir = join(workDir, 'file');
    await writeFile(notADir, '');
    const broken = new LocalSubmitter({
      command: 'true',
      workDir: notADir,
      gatewayUrl: 'http://127.0.0.1:9',
      heartbeatS: 60,
      baseEnv: {},
      logger,
    });
    await expect(broken.submit(spec('w6'))).rejects.toThrow();
  });
});
