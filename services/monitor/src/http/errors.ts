import { isAbortError } from 'abort-controller-x';
import { ClientError, Status } from 'nice-grpc-common';

/** An error answered with its status code and message (as a page or `{error}`). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

export interface GrpcErrorContext {
  /** Service name and address, e.g. `idds`, `127.0.0.1:50051`. */
  service: string;
  address: string;
  /** Message for NOT_FOUND, e.g. `workflow 42 not found`. */
  notFound?: string;
}

/**
 * Maps a failed gRPC call to an HttpError: NOT_FOUND -> 404, INVALID_ARGUMENT -> 400 (the
 * service's message), UNAVAILABLE / DEADLINE_EXCEEDED -> 503, anything else -> 502.
 * Anything that is not a gRPC error is returned unchanged (a bug: 500).
 */
export function fromGrpcError(err: unknown, ctx: GrpcErrorContext): Error {
  if (isAbortError(err)) return new HttpError(503, `${ctx.service} call was cancelled`, { cause: err });
  if (!(err instanceof ClientError)) return err instanceof Error ? err : new Error(String(err));
  const where = `${ctx.service} at ${ctx.address}`;
  switch (err.code) {
    case Status.NOT_FOUND:
      return new HttpError(404, ctx.notFound ?? (err.details || 'not found'), { cause: err });
    case Status.INVALID_ARGUMENT:
    case Status.OUT_OF_RANGE:
    case Status.FAILED_PRECONDITION:
      return new HttpError(400, err.details || 'invalid request', { cause: err });
    case Status.UNAVAILABLE:
    case Status.DEADLINE_EXCEEDED:
    case Status.CANCELLED:
      return new HttpError(503, `cannot reach ${where} (${Status[err.code]}); this page retries every 5 s`, {
        cause: err,
      });
    default:
      return new HttpError(502, `${where} failed: ${Status[err.code]}`, { cause: err });
  }
}
