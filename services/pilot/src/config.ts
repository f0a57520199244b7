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
  /** Memory limit = the job's memory (else --memory-mb) x this (PQ pilot_rss_grace); 0: no limit. */
  memoryGrace: z.coerce.number().min(0).default(2),
  /** Seconds between samples of the payload's process tree (prmon's interval). */
  monitorIntervalS: z.coerce.number().positive().default(60),
  /** Seconds between walltime, looping and lost-heartbeat checks. */
  checkIntervalS: z.coerce.number().positive().default(60),
  /**
   * Run each payload in its own memory cgroup made under this dir (cgroup v1: a dir of the
   * memory hierarchy; v2: a dir with the memory controller), with a hard limit of the job's
   * memory x --cgroup-memory-grace; a kernel OOM kill there is a certain 1212. '' = off.
   */
  memoryCgroup: z.string().default(''),
  /** The cgroup's hard limit = the job's memory (else --memory-mb) x this; 0: --memory-grace. */
  cgroupMemoryGrace: z.coerce.number().min(0).default(0),
  /** getJob and final updates refused as busy (429/503) are retried for up to this long. */
  busyRetryS: z.coerce.number().min(0).default(600),
  /** Walltime limit = the job's walltime x (1 + this / 100) (PQ pilot_walltime_grace). */
  walltimeGracePct: z.coerce.number().min(0).default(0),
  /** A payload with no file changed in its work dir for this long is killed (1150); 0: off. */
  loopingLimitS: z.coerce.number().min(0).default(7200),
  /** With no successful update for this long the pilot aborts the job (1317); 0: off. */
  lostHeartbeatS: z.coerce.number().min(0).default(10800),
  /** Send payload output and JSON log files to the gateway as they are written. */
  realtimeLogs: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** JSON-lines log files in the job's work dir to tail (Rubin: REALTIME_LOGFILES), comma separated. */
  logFiles: z.string().default('payload-log.json'),
  /** Milliseconds between reads of the tailed files (the original reads every 5 s). */
  logPollMs: z.coerce.number().int().positive().default(1000),
  /** Bearer token from harvester, sent on every gateway call. */
  token: z.string().default(''),
  /** Push mode: seconds each getJob may wait at the gateway for a job; 0: pull mode (exit when none). */
  waitS: z.coerce.number().int().min(0).max(300).default(0),
  /** Push mode: exit after this many seconds without a job; 0: wait until stopped. */
  idleS: z.coerce.number().min(0).default(0),
  /**
   * Push mode (harvester): a file holding the job harvester acquired for this worker (camelCase
   * Job JSON, already `starting` at the server); it is run first, without getJob. '' = none.
   */
  jobFile: z.string().default(''),
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
  'memory-grace': 'memoryGrace',
  'memory-cgroup': 'memoryCgroup',
  'cgroup-memory-grace': 'cgroupMemoryGrace',
  'busy-retry-s': 'busyRetryS',
  'monitor-interval-s': 'monitorIntervalS',
  'check-interval-s': 'checkIntervalS',
  'walltime-grace-pct': 'walltimeGracePct',
  'looping-limit-s': 'loopingLimitS',
  'lost-heartbeat-s': 'lostHeartbeatS',
  'realtime-logs': 'realtimeLogs',
  'log-files': 'logFiles',
  'log-poll-ms': 'logPollMs',
  token: 'token',
  'wait-s': 'waitS',
  'idle-s': 'idleS',
  'job-file': 'jobFile',
  'log-level': 'logLevel',
} as const satisfies Record<string, keyof PilotOptions>;

export const USAGE = `usage: panda-pilot [--queue Q] [--gateway-url URL] [--worker-id ID] [--work-dir DIR]
                   [--heartbeat-s S] [--memory-mb MB] [--cores N] [--walltime-s S] [--max-jobs N]
                   [--kill-grace-s S] [--memory-grace F] [--memory-cgroup DIR]
                   [--cgroup-memory-grace F] [--busy-retry-s S] [--monitor-interval-s S]
                   [--check-interval-s S] [--walltime-grace-pct P] [--looping-limit-s S]
                   [--lost-heartbeat-s S] [--realtime-logs true|false] [--log-files A,B]
                   [--log-poll-ms MS] [--token T] [--wait-s S] [--idle-s S] [--job-file F]
                   [--log-level LEVEL]
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
  return {
    help: false,
    options: {
      ...options,
      workDir: resolve(options.workDir),
      jobFile: options.jobFile && resolve(options.jobFile),
    },
  };
}

/** The pilot's environment without its own settings (the token is not the payload's business). */
export function payloadEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('PANDA_PILOT_')));
}
