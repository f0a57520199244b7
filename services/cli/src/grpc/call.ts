import { isAbortError } from 'abort-controller-x';
import { ClientError, Status } from 'nice-grpc-common';
import type { CallOptions } from 'nice-grpc-common';
import { CliError, ExitCode } from '../errors/cli-error.js';

/** A gRPC client together with what error messages need to say about it. */
export interface ServiceTarget<C> {
  /** Short service name used in messages, e.g. `idds`. */
  name: string;
  address: string;
  client: C;
}

export interface CallSpec {
  /** Cancels the call (Ctrl-C). */
  signal: AbortSignal;
  /** Message for NOT_FOUND, e.g. `workflow 42 not found`; the server's text otherwise. */
  notFound?: string;
}

/**
 * Runs one call on `target` and turns a gRPC failure into a CliError with the exit code
 * the CLI documents: INVALID_ARGUMENT -> 2 (the server's message, which names the bad
 * field), NOT_FOUND -> 3, UNAVAILABLE / DEADLINE_EXCEEDED -> 4, anything else -> 1.
 */
export async function call<C, R>(
  target: ServiceTarget<C>,
  spec: CallSpec,
  fn: (client: C, options: CallOptions) => Promise<R>,
): Promise<R> {
  try {
    return await fn(target.client, { signal: spec.signal });
  } catch (err) {
    throw toCliError(err, target, spec);
  }
}

export function toCliError(
  err: unknown,
  target: ServiceTarget<unknown>,
  spec: Partial<CallSpec> = {},
): Error {
  if (err instanceof CliError) return err;
  if (isAbortError(err) || spec.signal?.aborted) {
    return new CliError('interrupted', ExitCode.Interrupted, { cause: err });
  }
  if (!(err instanceof ClientError)) return err instanceof Error ? err : new Error(String(err));
  const where = `${target.name} at ${target.address}`;
  switch (err.code) {
    case Status.INVALID_ARGUMENT:
    case Status.FAILED_PRECONDITION:
    case Status.ALREADY_EXISTS:
    case Status.OUT_OF_RANGE:
      return new CliError(err.details || `${target.name} refused the request`, ExitCode.Usage, {
        cause: err,
      });
    case Status.NOT_FOUND:
      return new CliError(spec.notFound ?? (err.details || 'not found'), ExitCode.NotFound, { cause: err });
    case Status.UNAVAILABLE:
      return new CliError(
        isConnectFailure(err.details) ? `cannot reach ${where}` : `${where} is unavailable: ${err.details}`,
        ExitCode.Unavailable,
        { cause: err },
      );
    case Status.DEADLINE_EXCEEDED:
      return new CliError(`cannot reach ${where}: no answer before the deadline`, ExitCode.Unavailable, {
        cause: err,
      });
    case Status.CANCELLED:
      return new CliError('interrupted', ExitCode.Interrupted, { cause: err });
    default:
      return new CliError(
        `${where} failed: ${Status[err.code]}${err.details ? `: ${err.details}` : ''}`,
        ExitCode.NotOk,
        {
          cause: err,
        },
      );
  }
}

/** grpc-js reports a refused or failed connection as UNAVAILABLE with these texts. */
function isConnectFailure(details: string): boolean {
  return (
    details === '' ||
    /no connection established|connection refused|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|failed to connect|name resolution/i.test(
      details,
    )
  );
}
