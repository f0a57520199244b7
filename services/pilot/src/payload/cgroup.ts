import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The memory cgroup could not be made or set up (no such dir, no permission, no controller). */
export class CgroupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CgroupError';
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Reads `<key> <n>` from a flat-keyed cgroup file (memory.events, memory.oom_control). */
export function readKey(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * One payload's own memory cgroup, under a parent the pilot was given: cgroup v1 (a dir of the
 * `memory` hierarchy, e.g. /sys/fs/cgroup/memory/pilots) or v2 (a dir whose `cgroup.controllers`
 * has `memory`). It carries the job's hard memory limit (swap included where the kernel accounts
 * it), and counts the payload's OOM kills by itself, so that a 1212 is certain rather than
 * inferred from the node's counter.
 */
export class PayloadCgroup {
  private constructor(
    readonly path: string,
    readonly version: 1 | 2,
    /** The hard limit set, in bytes (undefined: none, the cgroup only counts). */
    readonly limitBytes: number | undefined,
  ) {}

  /** The file a process writes its pid to in order to join. */
  get procsFile(): string {
    return join(this.path, 'cgroup.procs');
  }

  /** Makes `<parent>/<name>` with the limit; CgroupError when the parent is not usable. */
  static async create(parent: string, name: string, limitBytes?: number): Promise<PayloadCgroup> {
    let version: 1 | 2;
    if (await exists(join(parent, 'memory.limit_in_bytes'))) version = 1;
    else if (await exists(join(parent, 'cgroup.controllers'))) version = 2;
    else throw new CgroupError(`${parent} is not a memory cgroup (v1) nor a cgroup v2 dir`);
    if (version === 2) await enableMemoryController(parent);
    const path = join(parent, name);
    try {
      await mkdir(path);
    } catch (err) {
      throw new CgroupError(`cannot create memory cgroup ${path}: ${(err as Error).message}`);
    }
    const cgroup = new PayloadCgroup(path, version, limitBytes);
    try {
      if (limitBytes !== undefined) await cgroup.setLimit(limitBytes);
    } catch (err) {
      await rmdir(path).catch(() => undefined);
      throw new CgroupError(`cannot set the memory limit of ${path}: ${(err as Error).message}`);
    }
    return cgroup;
  }

  private async setLimit(bytes: number): Promise<void> {
    const value = String(bytes);
    if (this.version === 1) {
      await writeFile(join(this.path, 'memory.limit_in_bytes'), value);
      // With swap accounting, memory + swap gets the same limit: the payload cannot swap past it.
      await writeFile(join(this.path, 'memory.memsw.limit_in_bytes'), value).catch(() => undefined);
    } else {
      await writeFile(join(this.path, 'memory.max'), value);
      await writeFile(join(this.path, 'memory.swap.max'), '0').catch(() => undefined);
    }
  }

  /** Processes of the cgroup the kernel's OOM killer killed; undefined if unreadable. */
  async oomKills(): Promise<number | undefined> {
    const file = this.version === 1 ? 'memory.oom_control' : 'memory.events';
    try {
      return readKey(await readFile(join(this.path, file), 'utf8'), 'oom_kill');
    } catch {
      return undefined;
    }
  }

  /** The highest memory use the kernel saw, in bytes; undefined if not kept (v2 before 5.19). */
  async peakBytes(): Promise<number | undefined> {
    const file = this.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak';
    try {
      const n = Number((await readFile(join(this.path, file), 'utf8')).trim());
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Kills what is left in the cgroup (a process that left the payload's process group) and
   * removes it; the kernel refuses while a process is in it, so this tries a few times.
   */
  async remove(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      for (const pid of await this.pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      try {
        await rmdir(this.path);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        if (attempt >= 20) {
          throw new CgroupError(`cannot remove memory cgroup ${this.path}: ${(err as Error).message}`);
        }
      }
      await sleep(50);
    }
  }

  private async pids(): Promise<number[]> {
    try {
      const text = await readFile(this.procsFile, 'utf8');
      return text.split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }
}

/** cgroup v2: a child gets the memory files only if its parent hands the controller down. */
async function enableMemoryController(parent: string): Promise<void> {
  const control = join(parent, 'cgroup.subtree_control');
  const enabled = await readFile(control, 'utf8').catch(() => '');
  if (enabled.split(/\s+/).includes('memory')) return;
  const available = await readFile(join(parent, 'cgroup.controllers'), 'utf8').catch(() => '');
  if (!available.split(/\s+/).includes('memory')) {
    throw new CgroupError(`${parent}: the memory controller is not available (cgroup.controllers)`);
  }
  try {
    await writeFile(control, '+memory');
  } catch (err) {
    throw new CgroupError(`${parent}: cannot enable the memory controller: ${(err as Error).message}`);
  }
}
