import { isAbortError } from 'abort-controller-x';
import { ClientError, Status } from 'nice-grpc-common';

/** What the HTTP layer answers for an error thrown by a call to the server. */
export interface HttpFailure {
  status: number;
  error: string;
  /** True when the failure is ours or unexpected and must be logged. */
  log: boolean;
}

/**
 * INVALID_ARGUMENT -> 400 and NOT_FOUND -> 404 keep the server's message (it names the
 * field or object); UNAVAILABLE and DEADLINE_EXCEEDED -> 503 so pilots retry; an aborted
 * call (the pilot went away) -> 499; anything else -> 500 with no internals.
 */
export function httpFailureOf(err: unknown): HttpFailure {
  if (isAbortError(err)) return { status: 499, error: 'request cancelled', log: false };
  if (err instanceof ClientError) {
    switch (err.code) {
      case Status.INVALID_ARGUMENT:
        return { status: 400, error: err.details, log: false };
      case Status.NOT_FOUND:
        return { status: 404, error: err.details, log: false };
      case Status.UNAVAILABLE:
      case Status.DEADLINE_EXCEEDED:
        return { status: 503, error: 'server unavailable, retry later', log: true };
      default:
        break;
    }
  }
  return { status: 500, error: 'internal error', log: true };
}
