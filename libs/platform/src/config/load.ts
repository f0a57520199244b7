import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors/errors.js';

export interface LoadConfigOptions {
  /** Environment to read; defaults to process.env. Only read here, once, at start-up. */
  env?: NodeJS.ProcessEnv;
  /** Prefix of the environment variables, e.g. `PANDA_`. */
  prefix?: string;
  /** Overrides applied last (tests). */
  overrides?: Record<string, unknown>;
}

/** `grpcPort` -> `PANDA_GRPC_PORT`. */
export function envNameOf(key: string, prefix = 'PANDA_'): string {
  return prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * Parses configuration once: an optional file (`<PREFIX>CONFIG_FILE`, JSON or YAML, keys as
 * in the schema), then environment variables (empty means unset), then overrides. A bad or
 * missing value throws a ConfigError naming every offending variable.
 */
export function loadConfig<T extends z.ZodObject>(schema: T, options: LoadConfigOptions = {}): z.infer<T> {
  const env = options.env ?? process.env;
  const prefix = options.prefix ?? 'PANDA_';
  const raw: Record<string, unknown> = {};

  const file = env[`${prefix}CONFIG_FILE`];
  if (file) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${prefix}CONFIG_FILE: cannot read ${file}: ${(err as Error).message}`);
    }
    if (parsed !== null && typeof parsed === 'object') Object.assign(raw, parsed);
    else if (parsed != null) throw new ConfigError(`${prefix}CONFIG_FILE: ${file} is not a mapping`);
  }

  for (const key of Object.keys(schema.shape)) {
    const value = env[envNameOf(key, prefix)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  Object.assign(raw, options.overrides ?? {});

  const result = schema.strict().safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? (issue as { keys?: string[] }).keys?.[0] ?? '');
      return `${envNameOf(key, prefix)} (${key}): ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data as z.infer<T>;
}

export const port = () => z.coerce.number().int().min(0).max(65535);
export const url = () => z.string().url();

/** Settings every service has. */
export const baseConfigSchema = z.object({
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  shutdownTimeoutMs: z.coerce.number().int().positive().default(10_000),
  /** HTTP /healthz and /readyz for probes; port 0 = off. */
  healthHost: z.string().default('127.0.0.1'),
  healthPort: port().default(0),
});

/** Settings of a service that owns a schema. */
export const databaseConfigSchema = z.object({
  databaseUrl: z.string().min(1),
  /** Apply migrations at start (off when a hook Job or init container does it). */
  migrateOnStart: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

/** Just what `main.js migrate` needs: the database and the log level. */
export const migrateConfigSchema = z.object({
  logLevel: baseConfigSchema.shape.logLevel,
  databaseUrl: z.string().min(1),
});
