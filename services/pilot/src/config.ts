import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { baseConfigSchema, ConfigError, loadConfig } from '@panda/platform';
import { z } from 'zod';

const count = () => z.coerce.number().int().min(0);

const schema = baseConfigSchema.extend({
  queue: z.string().min(1),
  gatewayUrl: z.string().url(),
  workerId: z.string().default(''),
  workDir: z.string().min(1).default('.'),
  /** Seconds between `running` heartbeats; the original pilot's default. */
  heartbeatS: z.coerce.number().positive().default(1800),
  /** What the pilot offers to getJob; 0 means "no limit stated". */
  memoryMb: count().default(0),
  cores: count().default(0),
  walltimeS: count().default(0),
  /** Stop after this many jobs; 0 means no limit. */
  maxJobs: count().default(0),
  /** Seconds between SIGTERM and SIGKILL when the payload is killed. */
  killGraceS: z.coerce.number().min(0).default(5),
});

export type PilotOptions = z.infer<typeof schema>;

/** Command-line flags; each is also `PANDA_PILOT_<UPPER_SNAKE>` in the environment. */
const FLAGS = {
  queue: 'queue',
  'gateway-url': 'gatewayUrl',
  'worker-id': 'workerId',
  'work-dir': 'workDir',
  'heartbeat-s': 'heartbeatS',
  'memory-mb': 'memoryMb',
  cores: 'cores',
  'walltime-s': 'walltimeS',
  'max-jobs': 'maxJobs',
  'kill-grace-s': 'killGraceS',
  'log-level': 'logLevel',
} as const satisfies Record<string, keyof PilotOptions>;

export const USAGE = `usage: panda-pilot [--queue Q] [--gateway-url URL] [--worker-id ID] [--work-dir DIR]
                   [--heartbeat-s S] [--memory-mb MB] [--cores N] [--walltime-s S] [--max-jobs N]
                   [--kill-grace-s S] [--log-level LEVEL]
Each flag may instead be given as PANDA_PILOT_<FLAG> (e.g. PANDA_PILOT_GATEWAY_URL); flags win.`;

export type ParsedCommandLine = { help: true } | { help: false; options: PilotOptions };

/**
 * Options from flags, then `PANDA_PILOT_*` variables (and `PANDA_PILOT_CONFIG_FILE`).
 * Throws ConfigError naming the flag or variable that is wrong.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedCommandLine {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return { help: true };
  const overrides: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') overrides[key] = value;
  }
  const options = loadConfig(schema, { env, prefix: 'PANDA_PILOT_', overrides });
  return { help: false, options: { ...options, workDir: resolve(options.workDir) } };
}
