import { describe, expect, it } from 'vitest';
import { decideRetry } from './decide.js';
import type { InputHistory, RetryPolicy } from './decide.js';
import { DEFAULT_RULES } from './rules.js';

const input = (extra: Partial<InputHistory> = {}): InputHistory => ({
  attemptNr: 1,
  failedAttempts: 0,
  oomFailures: 0,
  baseMemoryMb: 2048,
  memoryMb: 2048,
  walltimeS: 3600,
  ...extra,
});
const policy: RetryPolicy = { maxAttempts: 3, memoryMultiplier: 2, memoryMaxMb: 16_000 };
const err = (source: string, code: number, diag = '') => [{ source, code, diag }];

describe('retry module', () => {
  it('retries an ordinary failure while user attempts are left', () => {
    expect(decideRetry(err('pilot', 1305), input(), policy, DEFAULT_RULES)).toMatchObject({
      kind: 'retry',
      memoryMb: 2048,
      failedAttempts: 1,
    });
    expect(
      decideRetry(err('pilot', 1305), input({ failedAttempts: 2 }), policy, DEFAULT_RULES),
    ).toMatchObject({
      kind: 'failed',
    });
  });
  it('boosts memory as offset + step x n after out-of-memory, up to the max', () => {
    const first = decideRetry(err('pilot', 1235), input(), policy, DEFAULT_RULES);
    expect(first).toMatchObject({ kind: 'retry', memoryMb: 4096, oomFailures: 1 });
    const second = decideRetry(
      err('sup', 1212),
      input({ attemptNr: 2, failedAttempts: 1, oomFailures: 1, memoryMb: 4096 }),
      policy,
      DEFAULT_RULES,
    );
    expect(second).toMatchObject({ kind: 'retry', memoryMb: 8192 });
    const capped = decideRetry(
      err('pilot', 1212),
      input({ failedAttempts: 0, oomFailures: 3, memoryMb: 12_288 }),
      policy,
      DEFAULT_RULES,
    );
    expect(capped).toMatchObject({ kind: 'retry', memoryMb: 16_000 });
  });
  it('does not boost without a multiplier', () => {
    const r = decideRetry(err('pilot', 1235), input(), { ...policy, memoryMultiplier: 0 }, DEFAULT_RULES);
    expect(r).toMatchObject({ kind: 'retry', memoryMb: 2048 });
  });
  it('does not charge the user for a lost heartbeat', () => {
    const r = decideRetry(
      err('dispatcher', 100),
      input({ failedAttempts: 2, attemptNr: 3 }),
      policy,
      DEFAULT_RULES,
    );
    expect(r).toMatchObject({ kind: 'retry', failedAttempts: 2 });
  });
  it('honours no_retry and diag rules', () => {
    const rules = [
      {
        source: 'payload',
        code: 0,
        diag: 'Segmentation',
        action: { kind: 'no_retry' as const },
        system: false,
      },
    ];
    expect(decideRetry(err('payload', 139, 'Segmentation fault'), input(), policy, rules).kind).toBe(
      'failed',
    );
    expect(decideRetry(err('payload', 139, 'other'), input(), policy, rules).kind).toBe('retry');
  });
});
