/** One log record as the pilot sends it to the gateway (`POST /logs/v1/records`). */
export interface LogRecordJson {
  /** When the pilot read the line, ms since the epoch. */
  pilotTime: number;
  /** `stdout`, `stderr` or the name of the JSON log file. */
  source: string;
  /** The payload's own severity (`levelname`), else one found at the start of the line, else INFO. */
  severity: string;
  message: string;
  /** The Python logger name (`name`) of a JSON record. */
  logger?: string;
  /** Rubin's mapped diagnostic context (`MDC`), values as text. */
  mdc?: Record<string, string>;
  /** Other keys of a JSON record (asctime, filename, lineno, ...), values as text. */
  fields?: Record<string, string>;
}

/** Longest message the pilot sends; longer lines are cut with a marker (the gateway refuses them). */
export const MAX_MESSAGE_CHARS = 16_000;

const LEVELS = ['TRACE', 'DEBUG', 'VERBOSE', 'INFO', 'WARNING', 'WARN', 'ERROR', 'CRITICAL', 'FATAL'];
const LEADING_LEVEL = new RegExp(`^\\W{0,2}(${LEVELS.join('|')})\\b`);

function cut(text: string): string {
  if (text.length <= MAX_MESSAGE_CHARS) return text;
  const marker = ` [... ${text.length - MAX_MESSAGE_CHARS} characters cut by the pilot]`;
  return text.slice(0, MAX_MESSAGE_CHARS - marker.length) + marker;
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** Keys of a ButlerLogRecord that become record fields of their own. */
const OWN_KEYS = new Set(['message', 'levelname', 'name', 'MDC']);

/**
 * A line of a tailed file as a record. A JSON object line (a Rubin ButlerLogRecord) gives its
 * `levelname`, `message`, `name` and `MDC`, other keys go to `fields`; any other line is the
 * message, with a leading level word (as in `INFO 2025-... lsst.isr: ...`) as its severity.
 */
export function recordOf(line: string, source: string, pilotTime: number): LogRecordJson {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const obj = parsed as Record<string, unknown>;
      const record: LogRecordJson = {
        pilotTime,
        source,
        severity: typeof obj.levelname === 'string' ? obj.levelname.toUpperCase() : 'INFO',
        message: cut(obj.message === undefined ? '' : asText(obj.message)),
      };
      if (typeof obj.name === 'string') record.logger = obj.name;
      if (obj.MDC !== null && typeof obj.MDC === 'object' && !Array.isArray(obj.MDC)) {
        record.mdc = Object.fromEntries(
          Object.entries(obj.MDC as Record<string, unknown>).map(([k, v]) => [k, cut(asText(v))]),
        );
      }
      const fields = Object.entries(obj).filter(
        ([k, v]) => !OWN_KEYS.has(k) && v !== null && v !== undefined,
      );
      if (fields.length > 0) record.fields = Object.fromEntries(fields.map(([k, v]) => [k, cut(asText(v))]));
      return record;
    }
  }
  const level = LEADING_LEVEL.exec(line)?.[1];
  return {
    pilotTime,
    source,
    severity: level === 'WARN' ? 'WARNING' : (level ?? 'INFO'),
    message: cut(line),
  };
}
