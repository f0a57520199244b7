/** Longest errorDiag the pilot reports. */
export const MAX_DIAG_CHARS = 250;

/** The last line of `text` with something other than white space in it, trimmed. */
export function lastNonEmptyLine(text: string): string {
  const lines = text.split(/\r?\n|\r/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line) return line;
  }
  return '';
}

export function truncateDiag(text: string, max = MAX_DIAG_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/**
 * errorDiag for a failed payload: its last non-empty stderr line, else its last non-empty
 * stdout line, else `fallback`; at most MAX_DIAG_CHARS long.
 */
export function payloadDiag(stderrTail: string, stdoutTail: string, fallback: string): string {
  return truncateDiag(lastNonEmptyLine(stderrTail) || lastNonEmptyLine(stdoutTail) || fallback);
}
