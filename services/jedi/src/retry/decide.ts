import type { JobError } from '@panda/proto';
import type { RetryRule } from './rules.js';

export interface InputHistory {
  attemptNr: number;
  /** Attempts that counted against the user. */
  failedAttempts: number;
  oomFailures: number;
  baseMemoryMb: number;
  memoryMb: number;
  walltimeS: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  /** BPS memoryMultiplier; <= 1 disables the boost. */
  memoryMultiplier: number;
  memoryMaxMb: number;
}

export type RetryDecision =
  | {
      kind: 'retry';
      memoryMb: number;
      walltimeS: number;
      failedAttempts: number;
      oomFailures: number;
      rule: string;
    }
  | { kind: 'failed'; reason: string };

/** Never loop forever on system errors: at most this many attempts beyond the user's. */
const SYSTEM_RETRY_HEADROOM = 10;

const matches = (rule: RetryRule, e: JobError) =>
  (!rule.source || rule.source === e.source) &&
  (!rule.code || rule.code === e.code) &&
  (!rule.diag || new RegExp(rule.diag).test(e.diag));

/**
 * The retry module: the first rule matching any of the job's error pairs decides. Memory
 * grows as `offset + step x n` with n the out-of-memory failures so far, offset 0 and
 * step = base memory x multiplier (BPS: retryRamOffset/retryRamStep), capped at memoryMaxMb.
 */
export function decideRetry(
  errors: readonly JobError[],
  input: InputHistory,
  policy: RetryPolicy,
  rules: readonly RetryRule[],
): RetryDecision {
  const hit = rules.find((r) => errors.some((e) => matches(r, e)));
  const system = hit?.system ?? false;
  const failedAttempts = input.failedAttempts + (system ? 0 : 1);
  let memoryMb = input.memoryMb;
  let walltimeS = input.walltimeS;
  let oomFailures = input.oomFailures;
  const label = hit ? `${hit.source || '*'}:${hit.code || '*'} ${hit.action.kind}` : 'default';

  if (hit?.action.kind === 'no_retry') return { kind: 'failed', reason: `rule ${label}` };
  const maxAttempts =
    hit?.action.kind === 'limit_retry' && !system ? hit.action.maxAttempts : policy.maxAttempts;
  if (failedAttempts >= maxAttempts) {
    return { kind: 'failed', reason: `${failedAttempts} of ${maxAttempts} attempts used` };
  }
  if (input.attemptNr >= policy.maxAttempts + SYSTEM_RETRY_HEADROOM) {
    return { kind: 'failed', reason: `gave up after ${input.attemptNr} attempts` };
  }
  if (hit?.action.kind === 'increase_memory') {
    oomFailures += 1;
    if (policy.memoryMultiplier > 1) {
      const step = input.baseMemoryMb * policy.memoryMultiplier;
      const boosted = Math.min(step * oomFailures, policy.memoryMaxMb);
      if (boosted <= input.memoryMb) {
        return { kind: 'failed', reason: `out of memory at ${input.memoryMb} MB, the maximum` };
      }
      memoryMb = boosted;
    }
  }
  if (hit?.action.kind === 'increase_walltime' && walltimeS > 0) walltimeS *= 2;
  return { kind: 'retry', memoryMb, walltimeS, failedAttempts, oomFailures, rule: label };
}
