/** Exit codes of the `panda` command. A code never changes meaning: scripts branch on it. */
export const ExitCode = {
  /** The operation succeeded. */
  Ok: 0,
  /**
   * The operation's result is not ok: `submit --wait` ended not Finished, or a service
   * failed in a way not listed below (INTERNAL and the like).
   */
  NotOk: 1,
  /** Bad usage or invalid input, including INVALID_ARGUMENT from a service. */
  Usage: 2,
  /** The named object does not exist. */
  NotFound: 3,
  /** A service could not be reached or did not answer in time. */
  Unavailable: 4,
  /** Interrupted by SIGINT/SIGTERM. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one message on stderr and a specific exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.Usage);
