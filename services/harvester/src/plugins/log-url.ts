import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A worker's log file as a log URL: `file://` and the absolute path (resolved from the cwd). */
export const fileLogUrl = (path: string): string => pathToFileURL(resolve(path)).href;

/** The file a `file://` log URL names; undefined for another kind of URL or none. */
export function logUrlFile(url: string | undefined): string | undefined {
  if (!url?.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}
