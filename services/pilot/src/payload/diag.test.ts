import { describe, expect, it } from 'vitest';
import { lastNonEmptyLine, MAX_DIAG_CHARS, payloadDiag, truncateDiag } from './diag.js';

describe('lastNonEmptyLine', () => {
  it('skips trailing blank lines and trims', () => {
    expect(lastNonEmptyLine('first\n  second error  \n\n   \n')).toBe('second error');
  });
  it('handles CRLF, CR and no newline at all', () => {
    expect(lastNonEmptyLine('a\r\nb\r\n')).toBe('b');
    expect(lastNonEmptyLine('progress 1\rprogress 2\r')).toBe('progress 2');
    expect(lastNonEmptyLine('only')).toBe('only');
  });
  it('is empty for empty or blank text', () => {
    expect(lastNonEmptyLine('')).toBe('');
    expect(lastNonEmptyLine(' \n\t\n')).toBe('');
  });
});

describe('payloadDiag', () => {
  it('prefers stderr, then stdout, then the fallback', () => {
    expect(payloadDiag('warn\nboom\n', 'out\n', 'exit code 3')).toBe('boom');
    expect(payloadDiag('\n', 'last out\n', 'exit code 3')).toBe('last out');
    expect(payloadDiag('', '', 'exit code 3')).toBe('exit code 3');
  });
  it('trims to the maximum length', () => {
    const diag = payloadDiag('x'.repeat(1000), '', '');
    expect(diag).toHaveLength(MAX_DIAG_CHARS);
    expect(diag.endsWith('...')).toBe(true);
    expect(truncateDiag('short')).toBe('short');
  });
});
