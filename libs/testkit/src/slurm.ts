import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts, sleep } from './ports.js';
import {
  describeLog,
  findProcessesWithEnv,
  onProcessExit,
  signal,
  spawnLogged,
  stopProcessGroup,
} from './proc.js';

export interface StartSlurmOptions {
  /** Folder in which a fresh `slurm-*` folder is made (default: OS temp folder). It and every
   * folder above it must be traversable by the `munge` user (a `mktemp -d` folder is not). */
  baseDir?: string;
  /** CPUs declared for the node; more than the machine has speeds up scheduling (default 16). */
  cpus?: number;
  /** RealMemory of the node in MB (default 20000). */
  memoryMb?: number;
  /** Partitions (default `rubin` (the default one) and `rubin_himem`). */
  partitions?: string[];
  readyTimeoutMs?: number;
}

export interface SlurmHandle {
  /** The slurm.conf; Slurm commands find it through `SLURM_CONF`. */
  conf: string;
  /** `{ SLURM_CONF }`: the environment Slurm's client commands need. */
  env: Record<string, string>;
  node: string;
  partitions: string[];
  dir: string;
  stop(): Promise<void>;
}

/** The Debian package name of each binary, for the error when one is missing. */
const BINARIES = { munged: 'munge', slurmctld: 'slurmctld', slurmd: 'slurmd', sinfo: 'slurm-client' };

/** Whether `slurm-wlm` and `munge` are installed (tests may skip with a message otherwise). */
export function slurmAvailable(): boolean {
  return Object.keys(BINARIES).every((b) => which(b) !== undefined);
}

/**
 * Starts a real single-node Slurm cluster as root, entirely inside a fresh folder: its own
 * `munged` (run as the `munge` user, with a copy of /etc/munge/munge.key and its own socket),
 * then `slurmctld -D` and `slurmd -D` with a generated slurm.conf on free ports
 * (`proctrack/linuxproc`, `task/none`, `select/cons_tres` with `CR_Core_Memory`, memory enforced
 * by `jobacct_gather/linux` with `OverMemoryKill`). Resolves once the node is idle.
 */
export async function startSlurm(options: StartSlurmOptions = {}): Promise<SlurmHandle> {
  const missing = Object.entries(BINARIES).filter(([b]) => which(b) === undefined);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(' ');
    throw new Error(
      `Slurm is not installed (${pkgs} missing): run ./dev setup (apt-get install slurm-wlm munge)`,
    );
  }
  if (!existsSync('/etc/munge/munge.key')) execFileSync('mungekey', ['-c'], { stdio: 'ignore' });
  const base = resolve(options.baseDir ?? tmpdir());
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'slurm-'));
  chmodSync(dir, 0o755); // munge and slurmd must traverse it
  const node = hostname().split('.')[0]!;
  const partitions = options.partitions ?? ['rubin', 'rubin_himem'];
  const pids: number[] = [];
  const conf = join(dir, 'slurm.conf');
  // slurmstepd (one per job) leaves slurmd's process group but keeps its SLURM_CONF.
  const killSteps = () => {
    for (const pid of findProcessesWithEnv('SLURM_CONF', conf)) signal(pid, 'SIGKILL');
  };
  const removeExitHook = onProcessExit(() => {
    for (const pid of pids) signal(-pid, 'SIGKILL');
    killSteps();
    rmSync(dir, { recursive: true, force: true });
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      for (const pid of [...pids].reverse()) await stopProcessGroup(pid, 5_000);
      killSteps();
      rmSync(dir, { recursive: true, force: true });
      removeExitHook();
    })());

  try {
    const socket = await startMunge(dir, pids);
    const [ctldPort, slurmdPort] = await freePorts(2);
    for (const sub of ['spool', 'state', 'log']) mkdirSync(join(dir, sub));
    writeFileSync(
      conf,
      slurmConf({
        dir,
        node,
        socket,
        ctldPort: ctldPort!,
        slurmdPort: slurmdPort!,
        cpus: options.cpus ?? 16,
        memoryMb: options.memoryMb ?? 20_000,
        partitions,
      }),
    );
    const env = { SLURM_CONF: conf };
    const spawnEnv = { ...process.env, ...env };
    const ctld = spawnLogged('slurmctld', ['-D', '-f', conf], {
      cwd: dir,
      env: spawnEnv,
      logFile: join(dir, 'log', 'slurmctld.out'),
    });
    pids.push(ctld.pid!);
    await sleep(300);
    const slurmd = spawnLogged('slurmd', ['-D', '-f', conf, '-N', node], {
      cwd: dir,
      env: spawnEnv,
      logFile: join(dir, 'log', 'slurmd.out'),
    });
    pids.push(slurmd.pid!);

    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      const state = sinfoState(env);
      if (state === 'idle') break;
      if (Date.now() > deadline || ctld.exitCode !== null || slurmd.exitCode !== null) {
        throw new Error(
          `Slurm node not idle (state ${state || 'unknown'})\n${describeLog(join(dir, 'log', 'slurmctld.log'), 15)}\n` +
            describeLog(join(dir, 'log', 'slurmd.log'), 15),
        );
      }
      await sleep(250);
    }
    return { conf, env, node, partitions, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startMunge(dir: string, pids: number[]): Promise<string> {
  const keyDir = join(dir, 'munge');
  const runDir = join(dir, 'munge-run');
  mkdirSync(keyDir, { mode: 0o700 });
  mkdirSync(runDir, { mode: 0o755 });
  const key = join(keyDir, 'munge.key');
  copyFileSync('/etc/munge/munge.key', key);
  chmodSync(key, 0o600);
  const uid = Number(execFileSync('id', ['-u', 'munge'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'munge'], { encoding: 'utf8' }).trim());
  for (const p of [keyDir, key, runDir]) chownSync(p, uid, gid);
  const socket = join(runDir, 'munge.sock');
  const munged = spawnLogged(
    'runuser',
    [
      '-u',
      'munge',
      '--',
      'munged',
      '-F',
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${join(keyDir, 'munged.pid')}`,
      `--log-file=${join(keyDir, 'munged.log')}`,
      `--seed-file=${join(keyDir, 'seed')}`,
    ],
    { cwd: dir, logFile: join(dir, 'munged.out') },
  );
  pids.push(munged.pid!);
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || munged.exitCode !== null)
      throw new Error(`munged did not start\n${describeLog(join(dir, 'munged.out'), 10)}`);
    await sleep(100);
  }
  return socket;
}

interface ConfInput {
  dir: string;
  node: string;
  socket: string;
  ctldPort: number;
  slurmdPort: number;
  cpus: number;
  memoryMb: number;
  partitions: string[];
}

/** A single-node configuration known to work as root on Debian 12 (Slurm 22.05). */
export function slurmConf(c: ConfInput): string {
  return [
    'ClusterName=panda',
    `SlurmctldHost=${c.node}`,
    `SlurmctldPort=${c.ctldPort}`,
    `SlurmdPort=${c.slurmdPort}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${c.socket}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'MpiDefault=none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core_Memory',
    // Declared CPUs may exceed the machine's: more slots, faster scheduling.
    'SlurmdParameters=config_overrides',
    'ReturnToService=2',
    'SchedulerType=sched/backfill',
    'SchedulerParameters=sched_interval=1',
    'JobCompType=jobcomp/none',
    // No cgroups here: memory is enforced by polling the step's summed RSS every second and
    // SIGKILLing the whole step over its --mem (a batch job: pilot included). Slurm 22.05 then
    // says FAILED, Reason=JobLaunchFailure, ExitCode=0:9 (never OUT_OF_MEMORY, a task/cgroup
    // state) and slurmstepd writes "StepId=N.batch exceeded memory limit (used > limit), being
    // killed" and "Exceeded job memory limit" into the job's output.
    'JobAcctGatherType=jobacct_gather/linux',
    'JobAcctGatherFrequency=1',
    'JobAcctGatherParams=OverMemoryKill',
    'AccountingStorageType=accounting_storage/none',
    'MinJobAge=300',
    `SlurmctldPidFile=${join(c.dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(c.dir, 'slurmd.pid')}`,
    `SlurmdSpoolDir=${join(c.dir, 'spool')}`,
    `StateSaveLocation=${join(c.dir, 'state')}`,
    `SlurmctldLogFile=${join(c.dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(c.dir, 'log', 'slurmd.log')}`,
    `NodeName=${c.node} CPUs=${c.cpus} RealMemory=${c.memoryMb} State=UNKNOWN`,
    ...c.partitions.map(
      (p, i) =>
        `PartitionName=${p} Nodes=${c.node}${i === 0 ? ' Default=YES' : ''} MaxTime=INFINITE State=UP`,
    ),
    '',
  ].join('\n');
}

function sinfoState(env: Record<string, string>): string {
  try {
    return execFileSync('sinfo', ['-h', '-N', '-o', '%T'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5_000,
    })
      .trim()
      .split('\n')[0]!
      .trim();
  } catch {
    return '';
  }
}

function which(binary: string): string | undefined {
  for (const d of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (d && existsSync(join(d, binary))) return join(d, binary);
  }
  return undefined;
}
