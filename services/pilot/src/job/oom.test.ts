import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupOomReason, oomKillReason, readOomKills } from './oom.js';

describe('oomKillReason (1212 heuristic)', () => {
  it('is 1212 for a SIGKILL while the node OOM-kill count rose', () => {
    expect(oomKillReason({ exitCode: 137, signal: 'SIGKILL' }, 3, 4)).toMatchObject({ errorCode: 1212 });
    // bash -c reports its child's SIGKILL as exit code 137
    expect(oomKillReason({ exitCode: 137, signal: null }, 0, 1)?.diag).toMatch(/rose from 0 to 1/);
  });
  it('is nothing without both pieces of evidence', () => {
    expect(oomKillReason({ exitCode: 137, signal: 'SIGKILL' }, 4, 4)).toBeUndefined();
    expect(oomKillReason({ exitCode: 1, signal: null }, 0, 5)).toBeUndefined();
    expect(oomKillReason({ exitCode: 143, signal: 'SIGTERM' }, 0, 5)).toBeUndefined();
    expect(oomKillReason({ exitCode: 137, signal: 'SIGKILL' }, undefined, 5)).toBeUndefined();
  });
});

describe('readOomKills', () => {
  it('reads oom_kill from a vmstat file, undefined when absent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oom-'));
    await writeFile(join(dir, 'vmstat'), 'pgfault 10\noom_kill 7\nnr_free_pages 1\n');
    expect(await readOomKills(join(dir, 'vmstat'))).toBe(7);
    expect(await readOomKills(join(dir, 'missing'))).toBeUndefined();
    expect(typeof (await readOomKills())).toBe('number'); // this machine's /proc/vmstat
  });
});

describe("cgroupOomReason (1212 from the payload's own cgroup)", () => {
  it('is 1212 naming the kills, the limit and the peak when the cgroup counted OOM kills', () => {
    expect(cgroupOomReason(1, 64 * 1024 ** 2, 63.9 * 1024 ** 2)).toEqual({
      errorCode: 1212,
      diag: "Payload ran out of memory: the kernel OOM-killed 1 process(es) in the payload's memory cgroup (limit 64 MB, peak 64 MB)",
    });
    expect(cgroupOomReason(2, undefined, undefined)?.diag).toMatch(
      /killed 2 process\(es\) in the payload's memory cgroup$/,
    );
  });
  it('is nothing when the cgroup counted none or could not be read', () => {
    expect(cgroupOomReason(0, 1, 1)).toBeUndefined();
    expect(cgroupOomReason(undefined, 1, 1)).toBeUndefined();
  });
});
