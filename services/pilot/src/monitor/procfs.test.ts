import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseKbFields, parseStat, sampleTree, treeOf } from './procfs.js';

describe('parseStat', () => {
  it('reads ppid, pgrp and CPU times even when the name has spaces and parentheses', () => {
    const line = '4242 (my (odd) prog) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 30 5 2 20 0 3 0 1 2 3';
    expect(parseStat(line)).toEqual({
      pid: 4242,
      state: 'S',
      ppid: 17,
      pgrp: 4242,
      utime: 250,
      stime: 30,
      cutime: 5,
      cstime: 2,
    });
    expect(parseStat('garbage')).toBeUndefined();
  });
});

describe('parseKbFields', () => {
  it('reads kB and count lines', () => {
    const fields = parseKbFields('VmRSS:\t  1024 kB\nThreads:\t3\nName:\tbash\n');
    expect(fields.get('VmRSS')).toBe(1024);
    expect(fields.get('Threads')).toBe(3);
    expect(fields.has('Name')).toBe(false);
  });
});

describe('treeOf', () => {
  const s = (pid: number, ppid: number, pgrp: number) => ({
    pid,
    state: 'S',
    ppid,
    pgrp,
    utime: 0,
    stime: 0,
    cutime: 0,
    cstime: 0,
  });
  it('takes descendants by parent and orphans still in the process group', () => {
    const stats = [s(10, 1, 10), s(11, 10, 10), s(12, 11, 10), s(13, 1, 10), s(20, 1, 20), s(21, 12, 21)];
    expect(
      treeOf(10, stats)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([10, 11, 12, 13, 21]);
  });
});

describe('sampleTree on a real process tree', () => {
  it('counts every process and thread of the tree and their memory', async () => {
    const child = spawn('bash', ['-c', 'sleep 5 & sleep 5 & wait'], { detached: true, stdio: 'ignore' });
    try {
      await sleep(300);
      const sample = await sampleTree(child.pid!);
      expect(sample).toBeDefined();
      expect(sample!.processes).toBe(3);
      expect(sample!.threads).toBeGreaterThanOrEqual(3);
      expect(sample!.rssKb).toBeGreaterThan(0);
      expect(sample!.pssKb).toBeGreaterThan(0);
      expect(sample!.pssKb).toBeLessThanOrEqual(sample!.rssKb);
      expect(sample!.vmemKb).toBeGreaterThan(sample!.rssKb);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
    await sleep(100);
    expect(await sampleTree(child.pid!)).toBeUndefined();
  });
});
