import { usageError } from '../errors/cli-error.js';

/** Parses a positive integer id argument or option; `what` names it in the message. */
export function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0 || !Number.isSafeInteger(Number(text))) {
    throw usageError(`invalid ${what} '${text}': expected a positive integer`);
  }
  return Number(text);
}

/** An optional positive integer option. */
export const optId = (text: string | undefined, what: string): number =>
  text === undefined ? 0 : parseId(text, what);
