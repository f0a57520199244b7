import { isAbortError } from 'abort-controller-x';
import { createServer, ServerError, Status, ClientError } from 'nice-grpc';
import type { CallContext, Server, ServerMiddlewareCall } from 'nice-grpc';
import { isPandaError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';

/**
 * Maps what a handler throws to a gRPC status: our typed errors keep their status and
 * message; a downstream service being unreachable becomes UNAVAILABLE; anything else is
 * logged here and becomes INTERNAL with no internals leaked.
 */
export function errorMappingMiddleware(logger: Logger) {
  return async function* errorMapping<Req, Res>(
    call: ServerMiddlewareCall<Req, Res>,
    context: CallContext,
  ): AsyncGenerator<Res, Res | void, undefined> {
    try {
      return yield* call.next(call.request, context);
    } catch (err) {
      if (err instanceof ServerError || isAbortError(err)) throw err;
      if (isPandaError(err)) throw new ServerError(err.grpcStatus, err.message);
      if (
        err instanceof ClientError &&
        (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED)
      ) {
        logger.warn({ err, method: call.method.path }, 'dependency unavailable');
        throw new ServerError(Status.UNAVAILABLE, 'a dependency is unavailable, retry later');
      }
      logger.error({ err, method: call.method.path }, 'internal error in handler');
      throw new ServerError(Status.INTERNAL, 'internal error');
    }
  };
}

/** One line per call: method, status, duration. */
export function requestLoggingMiddleware(logger: Logger) {
  return async function* requestLogging<Req, Res>(
    call: ServerMiddlewareCall<Req, Res>,
    context: CallContext,
  ): AsyncGenerator<Res, Res | void, undefined> {
    const started = performance.now();
    let status = 'OK';
    try {
      return yield* call.next(call.request, context);
    } catch (err) {
      status = err instanceof ServerError ? Status[err.code] : isAbortError(err) ? 'CANCELLED' : 'UNKNOWN';
      throw err;
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const level =
        status === 'OK' ? 'debug' : status === 'INTERNAL' || status === 'UNKNOWN' ? 'error' : 'info';
      logger[level]({ method: call.method.path, status, ms }, 'grpc call');
    }
  };
}

/**
 * A gRPC server with the project's one interceptor chain: request logging outermost, then
 * error mapping. Auth and tracing are added to this chain, nowhere else.
 */
export function createGrpcServer(logger: Logger): Server {
  return createServer({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 })
    .use(requestLoggingMiddleware(logger))
    .use(errorMappingMiddleware(logger));
}

/** Listens and returns the bound port (pass 0 for a free one). */
export async function listenGrpc(server: Server, host: string, port: number): Promise<number> {
  return server.listen(`${host}:${port}`);
}

/** Stops taking calls, lets running ones finish, forces when `signal` aborts. */
export async function stopGrpcServer(server: Server, signal: AbortSignal): Promise<void> {
  const force = () => server.forceShutdown();
  signal.addEventListener('abort', force, { once: true });
  try {
    await server.shutdown();
  } finally {
    signal.removeEventListener('abort', force);
  }
}
