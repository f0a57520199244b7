/** The file of the pilot's memory monitor in a job's log archive (the prmon role). */
export const MEMORY_FILE = 'memory_monitor_output.txt';

/** One sample of the payload's process tree; sizes in kB as the pilot writes them. */
export interface MemorySample {
  /** Unix time of the sample, in seconds. */
  time: number;
  /** Seconds since the first sample of the series. */
  t: number;
  pssKb: number;
  rssKb: number;
  vmemKb: number;
  swapKb: number;
  utimeS: number;
  stimeS: number;
  processes: number;
  threads: number;
}

export interface MemorySeries {
  samples: MemorySample[];
  /** Lines that were not samples (cut, garbled or of another width). */
  skipped: number;
  /** Whether the file started with its header line (a file cut by the archive has none). */
  header: boolean;
}

type Field = Exclude<keyof MemorySample, 't'>;

/** Column names (lower case) as the pilot writes them, and prmon's own names, to fields. */
const FIELDS: Record<string, Field> = {
  time: 'time',
  wtime: 'time',
  pss: 'pssKb',
  rss: 'rssKb',
  vmem: 'vmemKb',
  swap: 'swapKb',
  utime: 'utimeS',
  stime: 'stimeS',
  nprocs: 'processes',
  nthreads: 'threads',
};

/** The pilot's columns (services/pilot/src/monitor/memory-monitor.ts), tab separated. */
export const PILOT_COLUMNS = ['time', 'pss', 'rss', 'vmem', 'swap', 'utime', 'stime', 'nprocs', 'nthreads'];

const REQUIRED = ['time', 'pss', 'rss', 'vmem', 'swap'] as const;

/** The file is not a memory series at all (as opposed to a few bad lines in one). */
export class MalformedSeriesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedSeriesError';
  }
}

const isNumber = (cell: string): boolean => cell !== '' && Number.isFinite(Number(cell));

/**
 * Parses `memory_monitor_output.txt`: a header line of column names (the pilot's `time pss rss
 * vmem swap utime stime nprocs nthreads`, or prmon's, in any order and case) then one line of
 * numbers per sample, whitespace separated, time in Unix seconds, sizes in kB. A file without
 * its header (the archive keeps the end of a file over its size limit) is read with the pilot's
 * columns. Lines of another width or with a non-number are skipped and counted; a file with a
 * header lacking time, pss, rss, vmem or swap, or with lines but no sample at all, is malformed.
 */
export function parseMemorySeries(text: string): MemorySeries {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const first = lines[0]?.trim().split(/\s+/) ?? [];
  const header = first.length > 0 && first.every((c) => !isNumber(c));
  const columns = (header ? first : PILOT_COLUMNS).map((c) => c.toLowerCase());
  const missing = REQUIRED.filter((r) => !columns.some((c) => FIELDS[c] === FIELDS[r]));
  if (header && missing.length > 0) {
    throw new MalformedSeriesError(`the header has no ${missing.join(', ')} column: ${lines[0]?.trim()}`);
  }
  const samples: MemorySample[] = [];
  let skipped = 0;
  for (const line of header ? lines.slice(1) : lines) {
    const cells = line.trim().split(/\s+/);
    if (cells.length !== columns.length || !cells.every(isNumber)) {
      skipped++;
      continue;
    }
    const s: MemorySample = {
      time: 0,
      t: 0,
      pssKb: 0,
      rssKb: 0,
      vmemKb: 0,
      swapKb: 0,
      utimeS: 0,
      stimeS: 0,
      processes: 0,
      threads: 0,
    };
    columns.forEach((c, i) => {
      const field = FIELDS[c];
      if (field) s[field] = Number(cells[i]);
    });
    samples.push(s);
  }
  if (samples.length === 0 && skipped > 0) {
    throw new MalformedSeriesError(`none of its ${skipped} line(s) is a sample`);
  }
  samples.sort((a, b) => a.time - b.time);
  const start = samples[0]?.time ?? 0;
  for (const s of samples) s.t = s.time - start;
  return { samples, skipped, header };
}
