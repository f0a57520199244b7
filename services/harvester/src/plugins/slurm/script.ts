import { resolve } from 'node:path';
import { z } from 'zod';
import { shellQuote } from '../../config.js';

/** The queue's `harvester.params` for a Slurm queue. */
export const slurmParamsSchema = z.object({
  /** `--partition`; empty = the cluster's default partition. */
  partition: z.string().default(''),
  /** The sbatch script template (`{{placeholder}}`); default DEFAULT_SLURM_TEMPLATE. */
  template: z.string().min(1).optional(),
  /** Extra sbatch command-line arguments (e.g. `--exclusive=user`). */
  sbatchArgs: z.array(z.string()).default([]),
});
export type SlurmParams = z.infer<typeof slurmParamsSchema>;

/**
 * The default batch script. `#SBATCH` lines whose value renders empty are dropped (e.g. no
 * partition). Placeholders follow Harvester's slurm submitter (reference §3).
 */
export const DEFAULT_SLURM_TEMPLATE = `#!/bin/bash
#SBATCH --job-name=panda-{{workerID}}
#SBATCH --partition={{partition}}
#SBATCH --mem={{requestRam}}
#SBATCH --cpus-per-task={{nCoreTotal}}
#SBATCH --time={{requestWalltimeMinute}}
#SBATCH --output={{accessPoint}}/slurm-%j.out
#SBATCH --error={{accessPoint}}/slurm-%j.out
{{pilotEnv}}
cd {{accessPoint}}
{{pilotCommand}}
`;

export interface ScriptValues {
  workerID: string;
  pandaQueueName: string;
  partition: string;
  requestRam: number;
  nCoreTotal: number;
  requestWalltime: number;
  accessPoint: string;
  pilotCommand: string;
  /** Exported into the script as `export K='v'` lines. */
  env: Record<string, string>;
}

/** Unknown placeholder in a template. */
export class TemplateError extends Error {
  constructor(readonly placeholder: string) {
    super(`unknown placeholder {{${placeholder}}} in the Slurm template`);
    this.name = 'TemplateError';
  }
}

export function renderSlurmScript(template: string, v: ScriptValues): string {
  const values: Record<string, string> = {
    workerID: v.workerID,
    pandaQueueName: v.pandaQueueName,
    computingSite: v.pandaQueueName,
    partition: v.partition,
    requestRam: String(v.requestRam),
    requestRamBytes: String(v.requestRam * 1024 * 1024),
    requestRamPerCore: String(Math.floor(v.requestRam / Math.max(v.nCoreTotal, 1))),
    nCoreTotal: String(v.nCoreTotal),
    nCorePerNode: String(v.nCoreTotal),
    nNode: '1',
    requestWalltime: String(v.requestWalltime),
    requestWalltimeMinute: String(Math.max(Math.ceil(v.requestWalltime / 60), 1)),
    accessPoint: v.accessPoint,
    logDir: v.accessPoint,
    pilotCommand: v.pilotCommand,
    pilotEnv: Object.entries(v.env)
      .map(([k, val]) => `export ${k}=${shellQuote(val)}`)
      .join('\n'),
  };
  const rendered = template.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new TemplateError(name);
    return value;
  });
  return rendered
    .split('\n')
    .filter((line) => !/^#SBATCH\s+--?[A-Za-z-]+(=|\s+)?\s*$/.test(line))
    .join('\n');
}

/** The batch id in sbatch's output: the last number (`Submitted batch job 42`, or `42;cluster`). */
export function parseBatchId(stdout: string): string | undefined {
  const numbers = stdout.match(/\d+/g);
  return numbers ? numbers[numbers.length - 1] : undefined;
}

/**
 * The `#SBATCH` directives of a batch script, as command-line words: sbatch reads them up to
 * the first line that is neither blank nor a comment; a ` #` after the options starts a comment.
 */
export function scriptDirectives(script: string): string[] {
  const words: string[] = [];
  for (const [i, line] of script.split('\n').entries()) {
    const t = line.trim();
    if ((i === 0 && t.startsWith('#!')) || t === '') continue;
    if (!t.startsWith('#')) break;
    const m = /^#SBATCH\s+(.*)$/.exec(t);
    if (m?.[1])
      words.push(
        ...m[1]
          .replace(/\s#.*$/, '')
          .trim()
          .split(/\s+/),
      );
  }
  return words;
}

/** The last value of option `--long`/`-short` in command-line words (`--o=v`, `--o v`, `-s v`, `-sv`). */
function lastOption(words: readonly string[], long: string, short: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === `--${long}` || w === `-${short}`) {
      const next = words[i + 1];
      if (next !== undefined) value = next;
      i++;
    } else if (w.startsWith(`--${long}=`)) value = w.slice(long.length + 3);
    else if (w.startsWith(`-${short}`) && !w.startsWith('--')) value = w.slice(2);
  }
  return value?.replace(/^(["'])(.*)\1$/, '$2');
}

/**
 * An sbatch option as sbatch takes it: from the command-line arguments (the queue's
 * `sbatchArgs`) if given there, else from the script's `#SBATCH` lines (the last one wins).
 */
export function sbatchOption(
  script: string,
  args: readonly string[],
  long: string,
  short: string,
): string | undefined {
  return lastOption(args, long, short) ?? lastOption(scriptDirectives(script), long, short);
}

/**
 * Seconds of a Slurm time limit (`--time`): `minutes`, `minutes:seconds`,
 * `hours:minutes:seconds`, `days-hours`, `days-hours:minutes`, `days-hours:minutes:seconds`;
 * `0`, `UNLIMITED` and `INFINITE` are no limit (0). Undefined when not understood.
 */
export function parseSlurmTime(value: string): number | undefined {
  const v = value.trim().toUpperCase();
  if (v === 'UNLIMITED' || v === 'INFINITE') return 0;
  const withDays = /^(\d+)-(\d+)(?::(\d+))?(?::(\d+))?$/.exec(v);
  if (withDays) {
    const [, d, h, m, s] = withDays.map((x) => Number(x ?? 0));
    return (((d ?? 0) * 24 + (h ?? 0)) * 60 + (m ?? 0)) * 60 + (s ?? 0);
  }
  if (!/^\d+(:\d+){0,2}$/.test(v)) return undefined;
  const parts = v.split(':').map(Number);
  if (parts.length === 1) return parts[0]! * 60;
  if (parts.length === 2) return parts[0]! * 60 + parts[1]!;
  return (parts[0]! * 60 + parts[1]!) * 60 + parts[2]!;
}

/**
 * The path of a job's output file from its `--output` pattern (default `slurm-%j.out`, relative
 * to the working directory `dir`): `%j` (job id, zero-padded to a width as in `%8j`), `%x` (job
 * name), `%u` (user) and `%%` are replaced; others (`%N`, `%A`, `%a`, ...) are left as written.
 */
export function slurmOutputFile(
  dir: string,
  pattern: string | undefined,
  v: { jobId: string; jobName: string; user: string },
): string {
  const name = (pattern || 'slurm-%j.out').replace(/%(\d{0,2})([%jxu])/g, (_, width: string, c: string) => {
    if (c === '%') return '%';
    if (c === 'j') return v.jobId.padStart(Number(width || 0), '0');
    return c === 'x' ? v.jobName : v.user;
  });
  return resolve(dir, name);
}
