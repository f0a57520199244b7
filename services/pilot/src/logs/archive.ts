import { open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from '@panda/platform';

export interface ArchiveSink {
  uploadArchive(pandaId: number, name: string, content: Buffer): Promise<void>;
}

/** Largest file the archive keeps; a longer one keeps its end (where the errors are). */
export const MAX_ARCHIVE_FILE_BYTES = 32 * 1024 * 1024;

async function tailOf(path: string, max: number): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer;
  } catch {
    return undefined; // not written by this payload
  } finally {
    await handle?.close();
  }
}

/** The pilot's own JSON log lines about this job (they carry `"pandaId":<id>`). */
async function pilotLogOf(path: string, pandaId: number): Promise<Buffer | undefined> {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const mark = `"pandaId":${pandaId}`;
  const lines = text.split('\n').filter((l) => l.includes(mark));
  return lines.length > 0 ? Buffer.from(`${lines.join('\n')}\n`) : undefined;
}

export interface ArchiveOptions {
  sink: ArchiveSink;
  logger: Logger;
  pandaId: number;
  /** The job's work dir. */
  dir: string;
  /** Files of `dir` to keep (missing ones are skipped). */
  files: string[];
  /** The pilot's own log file (JSON lines), filtered to this job as `pilot.log`. */
  pilotLogFile?: string;
}

/**
 * The log archive of a job: payload stdout/stderr, the memory time series and summary, the
 * JSON log files and the pilot's log lines about the job, each uploaded through the gateway.
 * Returns the names stored; a failed upload is logged and does not fail the job.
 */
export async function uploadJobArchive(o: ArchiveOptions): Promise<string[]> {
  const entries: [string, Buffer | undefined][] = await Promise.all(
    o.files.map(async (f): Promise<[string, Buffer | undefined]> => [
      basename(f),
      await tailOf(join(o.dir, f), MAX_ARCHIVE_FILE_BYTES),
    ]),
  );
  if (o.pilotLogFile) entries.push(['pilot.log', await pilotLogOf(o.pilotLogFile, o.pandaId)]);
  const stored: string[] = [];
  for (const [name, content] of entries) {
    if (!content) continue;
    try {
      await o.sink.uploadArchive(o.pandaId, name, content);
      stored.push(name);
    } catch (err) {
      o.logger.warn({ err: String(err), name }, 'could not upload a log archive file');
    }
  }
  return stored;
}
