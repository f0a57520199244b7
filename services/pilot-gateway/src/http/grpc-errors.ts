import { isAbortError } from 'abort-controller-x';
import { ClientError, Status } from 'nice-grpc-common';
import { OverloadedError } from '../dispatch/limiter.js';

/** What the HTTP layer answers for an error thrown by a call to the server. */
export interface HttpFailure {
  status: number;
  error: string;
  /** True when the failure is ours or unexpected and must be logged. */
  log: boolean;
  /** Seconds for the `Retry-After` header, when the pilot should come back later. */
  retryAfterS?: number;
}

/**
 * INVALID_ARGUMENT -> 400 and NOT_FOUND -> 404 keep the server's message (it names the
 * field or object); UNAVAILABLE and DEADLINE_EXCEEDED -> 503 so pilots retry; the gateway's
 * own queue toward the server full -> 503 with Retry-After; an aborted call (the pilot went
 * away) -> 499; anything else -> 500 with no internals.
 */
export function httpFailureOf(err: unknown): HttpFailure {
  if (isAbortError(err)) return { status: 499, error: 'request cancelled', log: false };
  if (err instanceof OverloadedError) {
    return { status: 503, error: err.message, log: false, retryAfterS: err.retryAfterS };
  }
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
