import { describe, expect, it } from 'vitest';
import { describeError, ERROR_CATALOGUE, ERROR_CATEGORIES } from './catalogue.js';

describe('error catalogue', () => {
  it('describes the codes users meet most', () => {
    expect(describeError('pilot', 1305)?.shortDesc).toBe('Failed to execute payload');
    expect(describeError('pilot', 1235)?.category).toBe('Runtime and resource violations');
    expect(describeError('dispatcher', 100)?.shortDesc).toBe('Lost heartbeat');
    expect(describeError('pilot', 4242)).toBeUndefined();
  });
  it('puts every code in one of the seven categories, once per source', () => {
    const keys = new Set<string>();
    for (const e of ERROR_CATALOGUE) {
      expect(ERROR_CATEGORIES).toContain(e.category);
      const key = `${e.source}:${e.code}`;
      expect(keys.has(key)).toBe(false);
      keys.add(key);
    }
  });
});
