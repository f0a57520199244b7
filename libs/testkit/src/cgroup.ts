import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `<key> <n>` of a flat-keyed cgroup file (memory.oom_control, memory.events). */
const readKey = (text: string, key: string): number | undefined => {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

/** A memory cgroup made for a test (real kernel OOM tests only). */
export interface TestCgroup {
  version: 1 | 2;
  path: string;
}

/** This process's own memory cgroup dir (cgroup v1 memory hierarchy first, else v2), or why none. */
async function ownCgroupDir(): Promise<{ version: 1 | 2; dir: string } | string> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' '));
  const own = await readFile('/proc/self/cgroup', 'utf8');
  const v1 = mounts.find((f) => f[2] === 'cgroup' && (f[3] ?? '').split(',').includes('memory'));
  const v1Path = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(own)?.[1];
  if (v1?.[1] && v1Path !== undefined) return { version: 1, dir: join(v1[1], v1Path) };
  const v2 = mounts.find((f) => f[2] === 'cgroup2');
  const v2Path = /^0::(.*)$/m.exec(own)?.[1];
  if (v2?.[1] && v2Path !== undefined) return { version: 2, dir: join(v2[1], v2Path) };
  return 'no cgroup v1 memory hierarchy nor cgroup v2 is mounted';
}

/**
 * A fresh cgroup named `<name>-<pid>` under this process's own (so that it stays within the
 * limits this process runs under), able to have memory-limited children; or, as a string, the
 * reason it cannot be made here (not root, read-only cgroupfs, no memory controller).
 */
export async function makeTestCgroup(name: string): Promise<TestCgroup | string> {
  const own = await ownCgroupDir();
  if (typeof own === 'string') return own;
  const path = join(own.dir, `${name}-${process.pid}`);
  try {
    await mkdir(path);
    if (own.version === 2) await writeFile(join(path, 'cgroup.subtree_control'), '+memory');
  } catch (err) {
    await rmdir(path).catch(() => undefined);
    return `cannot create a memory cgroup under ${own.dir}: ${(err as Error).message}`;
  }
  return { version: own.version, path };
}

/** A child of the test cgroup with a memory limit, for a payload that joins it itself. */
export async function limitedChild(parent: TestCgroup, name: string, limitBytes: number): Promise<string> {
  const path = join(parent.path, name);
  await mkdir(path);
  const file = parent.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
  await writeFile(join(path, file), String(limitBytes));
  return path;
}

/** The kernel's OOM-kill count of a cgroup of the test's. */
export async function oomKillsOf(parent: TestCgroup, path: string): Promise<number | undefined> {
  const file = parent.version === 1 ? 'memory.oom_control' : 'memory.events';
  return readKey(await readFile(join(path, file), 'utf8'), 'oom_kill');
}

/** Removes a cgroup and its children, killing whatever is left in them first. */
export async function removeCgroupTree(path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(join(path, e.name));
  const procs = await readFile(join(path, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const pid of procs.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (let i = 0; i < 50; i++) {
    try {
      await rmdir(path);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
