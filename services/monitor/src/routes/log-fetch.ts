/** What the log page shows: the text (or archive files), or why there is none. */
export interface LogResult {
  available: boolean;
  text: string;
  files: { name: string; size: number; modified: string }[];
  message: string;
  source: string | null;
}

const MAX_CHARS = 1 << 20;
const TIMEOUT_MS = 5_000;

/** One NDJSON record of the gateway as `time source severity message`; other lines as they are. */
export function formatRecord(line: string): string {
  try {
    const r = JSON.parse(line) as {
      pilotTime?: string | null;
      source?: string;
      severity?: string;
      message?: string;
    };
    return [r.pilotTime ?? '', r.source ?? '', r.severity ?? '', r.message ?? ''].filter(Boolean).join(' ');
  } catch {
    return line;
  }
}

function unavailable(message: string, source: string | null): LogResult {
  return { available: false, text: '', files: [], message, source };
}

/**
 * Reads a job's log from the pilot-gateway: the live records (`GET /logs/v1/jobs/<id>`, NDJSON) or the
 * stored archive's file list (`GET /logs/v1/jobs/<id>/archive`). Failures give a message: logs are optional.
 */
export async function fetchLog(
  gatewayUrl: string | undefined,
  pandaId: number,
  archive: boolean,
): Promise<LogResult> {
  if (!gatewayUrl) return unavailable('no log service configured (PANDA_GATEWAY_URL)', null);
  const url = `${gatewayUrl.replace(/\/$/, '')}/logs/v1/jobs/${pandaId}${archive ? '/archive' : ''}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      return unavailable(
        res.status === 404
          ? 'no log stored for this job'
          : (body.error ?? `the log service answered ${res.status}`),
        url,
      );
    }
    if (archive) {
      const { files } = (await res.json()) as { files?: LogResult['files'] };
      if (!files?.length) return unavailable('no log archive stored for this job', url);
      return { available: true, text: '', files, message: '', source: url };
    }
    const raw = await res.text();
    const text = raw.split('\n').filter(Boolean).map(formatRecord).join('\n');
    if (!text) return unavailable('no log records for this job (yet)', url);
    return {
      available: true,
      text: text.length > MAX_CHARS ? text.slice(-MAX_CHARS) : text,
      files: [],
      message: '',
      source: url,
    };
  } catch (err) {
    return unavailable(`log service unreachable: ${(err as Error).message}`, url);
  }
}

/** One archive file's bytes, or null. */
export async function fetchArchiveFile(
  gatewayUrl: string | undefined,
  pandaId: number,
  name: string,
): Promise<Buffer | null> {
  if (!gatewayUrl) return null;
  const url = `${gatewayUrl.replace(/\/$/, '')}/logs/v1/jobs/${pandaId}/archive/${encodeURIComponent(name)}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return res.ok ? Buffer.from(await res.arrayBuffer()) : null;
  } catch {
    return null;
  }
}
