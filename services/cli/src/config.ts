import { baseConfigSchema, loadConfig } from '@panda/platform';
import { z } from 'zod';

const hostPort = () =>
  z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:50051')
    .optional();

/**
 * The `panda` command's settings. Every address is optional so that `--help` and commands
 * that do not need a service work without it; a command that needs an unset address
 * says which variable to set.
 */
export const cliConfigSchema = baseConfigSchema.extend({
  // The CLI's own diagnostics go to stderr; keep them quiet unless asked.
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('warn'),
  iddsAddr: hostPort(),
  serverAddr: hostPort(),
  jediAddr: hostPort(),
  harvesterAddr: hostPort(),
  monitorUrl: z.string().url().optional(),
});

export type CliConfig = z.infer<typeof cliConfigSchema>;

/** Reads the configuration once, from `PANDA_*` variables (or `PANDA_CONFIG_FILE`). */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return loadConfig(cliConfigSchema, { env });
}
