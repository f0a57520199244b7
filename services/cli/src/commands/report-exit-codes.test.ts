import { describe, expect, it } from 'vitest';
import { formatExitCodes } from './report.js';

describe('report --exit-codes', () => {
  it('lists exit codes per label, aligned', () => {
    const text = formatExitCodes([
      { label: 'isr', exitCode: 1, count: 3 },
      { label: 'characterizeImage', exitCode: 139, count: 1 },
    ]);
    expect(text.split('\n')).toEqual([
      'LABEL              EXIT CODE  COUNT',
      'isr                        1      3',
      'characterizeImage        139      1',
    ]);
  });
  it('says so when nothing failed', () => {
    expect(formatExitCodes([])).toMatch(/no payload exit codes/);
  });
});
