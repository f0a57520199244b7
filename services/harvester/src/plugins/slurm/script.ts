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
