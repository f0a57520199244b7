import { Status } from 'nice-grpc-common';

/**
 * Stable error codes. A code never changes meaning; clients may branch on it.
 * Each maps to one gRPC status at the service boundary.
 */
export const ErrorCodes = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  UNAVAILABLE: 'UNAVAILABLE',
  CONFIG: 'CONFIG',
  ILLEGAL_TRANSITION: 'ILLEGAL_TRANSITION',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error the project throws on purpose. */
export abstract class PandaError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly grpcStatus: Status;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when a request or input is malformed; `field` names what is wrong. */
export class InvalidArgumentError extends PandaError {
  readonly code = ErrorCodes.INVALID_ARGUMENT;
  readonly grpcStatus = Status.INVALID_ARGUMENT;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Thrown when the named object does not exist. */
export class NotFoundError extends PandaError {
  readonly code = ErrorCodes.NOT_FOUND;
  readonly grpcStatus = Status.NOT_FOUND;
  constructor(
    readonly kind: string,
    readonly id: string | number,
  ) {
    super(`${kind} ${id} not found`);
  }
}

/** Thrown when an operation is not allowed in the object's current state. */
export class FailedPreconditionError extends PandaError {
  readonly code = ErrorCodes.FAILED_PRECONDITION;
  readonly grpcStatus = Status.FAILED_PRECONDITION;
}

/** Thrown when a dependency (database, bus, another service) cannot be reached. */
export class UnavailableError extends PandaError {
  readonly code = ErrorCodes.UNAVAILABLE;
  readonly grpcStatus = Status.UNAVAILABLE;
}

/** Thrown at start-up when configuration is missing or has a bad value. */
export class ConfigError extends PandaError {
  readonly code = ErrorCodes.CONFIG;
  readonly grpcStatus = Status.INTERNAL;
}

/** Thrown when a lifecycle is asked to move along an edge its transition table does not have. */
export class IllegalTransitionError extends PandaError {
  readonly code = ErrorCodes.ILLEGAL_TRANSITION;
  readonly grpcStatus = Status.FAILED_PRECONDITION;
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${machine}: illegal transition ${from} -> ${to}`);
  }
}

export const isPandaError = (err: unknown): err is PandaError => err instanceof PandaError;
