import { z } from 'zod';

/** What the retry module can do with a failed job (one action per job). */
export type RetryAction =
  | { kind: 'no_retry' }
  | { kind: 'limit_retry'; maxAttempts: number }
  | { kind: 'increase_memory' }
  | { kind: 'increase_walltime' };

export interface RetryRule {
  /** Error source (pilot, payload, exe, sup, dispatcher, taskbuffer, brokerage); empty = any. */
  source: string;
  /** 0 = any code. */
  code: number;
  /** Regular expression on the diagnostic; empty = any. */
  diag: string;
  action: RetryAction;
  /** A system error: the retry does not consume one of the user's attempts. */
  system: boolean;
}

const ruleSchema = z.strictObject({
  source: z.string().default(''),
  code: z.number().int().default(0),
  diag: z
    .string()
    .default('')
    .refine((d) => {
      try {
        new RegExp(d);
        return true;
      } catch {
        return false;
      }
    }, 'is not a valid regular expression'),
  action: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('no_retry') }),
    z.strictObject({ kind: z.literal('limit_retry'), maxAttempts: z.number().int().positive() }),
    z.strictObject({ kind: z.literal('increase_memory') }),
    z.strictObject({ kind: z.literal('increase_walltime') }),
  ]),
  system: z.boolean().default(false),
});

export const rulesSchema = z.array(ruleSchema);

/**
 * Default rules: running out of memory (pilot 1212 OOM killer, 1235 over the limit; the
 * worker's OOMKilled / OUT_OF_MEMORY reported as supervisor 1212) boosts memory; hitting the
 * time limit raises walltime; a lost pilot or worker is a system error that does not burn
 * the user's attempts.
 */
export const DEFAULT_RULES: RetryRule[] = [
  ...[
    ['pilot', 1212],
    ['pilot', 1235],
    ['sup', 1212],
  ].map(([source, code]) => ({
    source: source as string,
    code: code as number,
    diag: '',
    action: { kind: 'increase_memory' } as const,
    system: false,
  })),
  ...[
    ['pilot', 1213],
    ['sup', 1213],
  ].map(([source, code]) => ({
    source: source as string,
    code: code as number,
    diag: '',
    action: { kind: 'increase_walltime' } as const,
    system: false,
  })),
  ...[
    ['dispatcher', 100],
    ['dispatcher', 102],
    ['sup', 300],
    ['taskbuffer', 300],
    ['pilot', 1201],
  ].map(([source, code]) => ({
    source: source as string,
    code: code as number,
    diag: '',
    action: { kind: 'limit_retry', maxAttempts: 1000 } as const,
    system: true,
  })),
];
