import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Longest read per file and poll, so one huge burst cannot hold the pilot. */
const MAX_READ_BYTES = 4 * 1024 * 1024;

/**
 * Follows one file by offset: each `read()` returns the complete lines written since the last
 * one; `flush()` also returns a last line without its newline. A missing file is no error
 * (the payload may create it later).
 */
export class FileTailer {
  readonly source: string;
  private offset = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    readonly path: string,
    source?: string,
  ) {
    this.source = source ?? basename(path);
  }

  async read(): Promise<string[]> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = await handle.stat();
      if (size < this.offset) this.offset = 0; // truncated or replaced: start again
      const length = Math.min(size - this.offset, MAX_READ_BYTES);
      if (length <= 0) return [];
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, this.offset);
      this.offset += bytesRead;
      const text = this.partial + this.decoder.write(buffer.subarray(0, bytesRead));
      const lines = text.split(/\r?\n/);
      this.partial = lines.pop() ?? '';
      return lines.filter((l) => l.length > 0);
    } finally {
      await handle.close();
    }
  }

  /** The rest of the file, including an unterminated last line. */
  async flush(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const more = await this.read();
      if (more.length === 0) break;
      lines.push(...more);
    }
    const last = this.partial + this.decoder.end();
    this.partial = '';
    if (last.length > 0) lines.push(last);
    return lines;
  }
}
