import { readFileSync } from 'node:fs';
import { ConfigError } from '@panda/platform';
import { DEFAULT_RULES, rulesSchema } from './rules.js';
import type { RetryRule } from './rules.js';

/** Rules from a JSON file (a list, tried before the defaults), or the defaults alone. */
export function loadRetryRules(file: string | undefined): RetryRule[] {
  if (!file) return DEFAULT_RULES;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`PANDA_RETRY_RULES_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = rulesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`PANDA_RETRY_RULES_FILE: rule ${issue.path.join('.')}: ${issue.message}`);
  }
  return [...parsed.data, ...DEFAULT_RULES];
}
