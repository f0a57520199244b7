import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupError, PayloadCgroup, readKey } from './cgroup.js';

// These use plain directories shaped like cgroup dirs; the kernel's own are in cgroup.int.test.ts.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cgroup-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PayloadCgroup on cgroup v1 (memory hierarchy)', () => {
  it('makes the child with the limit on memory and memory+swap, and reads its OOM kills and peak', async () => {
    await writeFile(join(dir, 'memory.limit_in_bytes'), '9223372036854771712\n');
    const cg = await PayloadCgroup.create(dir, 'job-1', 64 * 1024 ** 2);
    expect(cg).toMatchObject({ version: 1, path: join(dir, 'job-1'), limitBytes: 67_108_864 });
    expect(cg.procsFile).toBe(join(dir, 'job-1', 'cgroup.procs'));
    expect(await readFile(join(dir, 'job-1', 'memory.limit_in_bytes'), 'utf8')).toBe('67108864');
    expect(await readFile(join(dir, 'job-1', 'memory.memsw.limit_in_bytes'), 'utf8')).toBe('67108864');
    expect(await cg.oomKills()).toBeUndefined(); // nothing to read yet
    await writeFile(
      join(dir, 'job-1', 'memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    );
    await writeFile(join(dir, 'job-1', 'memory.max_usage_in_bytes'), '67100000\n');
    expect(await cg.oomKills()).toBe(2);
    expect(await cg.peakBytes()).toBe(67_100_000);
  });

  it('refuses a child that exists already', async () => {
    await writeFile(join(dir, 'memory.limit_in_bytes'), '1');
    await mkdir(join(dir, 'job-1'));
    await expect(PayloadCgroup.create(dir, 'job-1')).rejects.toThrow(/cannot create memory cgroup .*job-1/);
  });
});

describe('PayloadCgroup on cgroup v2', () => {
  it('hands the memory controller down, then sets memory.max and no swap', async () => {
    await writeFile(join(dir, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    await writeFile(join(dir, 'cgroup.subtree_control'), '\n');
    const cg = await PayloadCgroup.create(dir, 'job-2', 1024);
    expect(cg.version).toBe(2);
    expect(await readFile(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+memory');
    expect(await readFile(join(dir, 'job-2', 'memory.max'), 'utf8')).toBe('1024');
    expect(await readFile(join(dir, 'job-2', 'memory.swap.max'), 'utf8')).toBe('0');
    await writeFile(
      join(dir, 'job-2', 'memory.events'),
      'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n',
    );
    expect(await cg.oomKills()).toBe(1);
  });

  it('refuses a parent without the memory controller', async () => {
    await writeFile(join(dir, 'cgroup.controllers'), 'cpu pids\n');
    await expect(PayloadCgroup.create(dir, 'job-3')).rejects.toThrow(/memory controller is not available/);
  });
});

it('refuses a dir that is no cgroup at all, with a CgroupError', async () => {
  const err: unknown = await PayloadCgroup.create(dir, 'job-4').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CgroupError);
  expect((err as Error).message).toMatch(/is not a memory cgroup/);
});

it('readKey reads one counter of a flat-keyed file', () => {
  expect(readKey('oom 3\noom_kill 2\noom_group_kill 0\n', 'oom_kill')).toBe(2);
  expect(readKey('oom 3\n', 'oom_kill')).toBeUndefined();
});
