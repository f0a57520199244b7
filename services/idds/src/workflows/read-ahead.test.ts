import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.js';

/** A source that records when each item was asked for, relative to the consumer's work. */
function recorded(n: number, log: string[], failAt = -1) {
  return (async function* () {
    for (let i = 0; i < n; i++) {
      log.push(`asked ${i}`);
      await new Promise((r) => setTimeout(r, 5));
      if (i === failAt) throw new Error(`item ${i} broke`);
      yield i;
    }
  })();
}

describe('readAhead', () => {
  it('asks for the next item while the current one is being worked on, and keeps the order', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    for await (const i of readAhead(recorded(3, log))) {
      log.push(`working ${i}`);
      await new Promise((r) => setTimeout(r, 20));
      seen.push(i);
    }
    expect(seen).toEqual([0, 1, 2]);
    // one ahead, never more: item 2 is asked for when item 1 is handed out
    expect(log).toEqual(['asked 0', 'asked 1', 'working 0', 'asked 2', 'working 1', 'working 2']);
  });

  it('passes a failure of the source on at the item that failed', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const i of readAhead(recorded(5, [], 2))) seen.push(i);
    };
    await expect(run()).rejects.toThrow('item 2 broke');
    expect(seen).toEqual([0, 1]);
  });

  it('ends the source when the consumer stops early', async () => {
    let ended = false;
    const source = (async function* () {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        ended = true;
      }
    })();
    for await (const i of readAhead(source)) if (i === 1) break;
    await new Promise((r) => setTimeout(r, 10));
    expect(ended).toBe(true);
  });
});
