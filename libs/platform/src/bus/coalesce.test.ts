import { describe, expect, it } from 'vitest';
import { coalesceBy } from './coalesce.js';

describe('coalesceBy', () => {
  const byTask = coalesceBy<{ task: number; ids: number[] }>(
    (e) => e.task,
    (list) => ({ task: list[0]!.task, ids: list.flatMap((e) => e.ids) }),
  );

  it('merges events of the same key, keeping their order, and sorts by key', () => {
    const out = byTask([
      { task: 7, ids: [1] },
      { task: 3, ids: [2] },
      { task: 7, ids: [3, 4] },
    ]);
    expect(out).toEqual([
      { task: 3, ids: [2] },
      { task: 7, ids: [1, 3, 4] },
    ]);
  });

  it('leaves a lone event as it is', () => {
    const e = { task: 1, ids: [5] };
    expect(byTask([e])[0]).toBe(e);
  });
});
