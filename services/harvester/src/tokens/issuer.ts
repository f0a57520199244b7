import { signPilotToken } from '@panda/platform';

/** Validity when a queue states no maxtime. */
const DEFAULT_MAXTIME_S = 7 * 24 * 3600;

export interface TokenIssuerOptions {
  /** The HMAC secret shared with pilot-gateway. */
  secret: string;
  /** Seconds added to the queue's maxtime (time the worker may wait in the batch system). */
  marginS: number;
  now?: () => number;
}

/** What one worker's token names. */
export interface TokenSubject {
  workerId: string;
  queue: string;
  /** The queue's maxtime in seconds (0: not stated). */
  maxtimeS: number;
}

/**
 * Signs one token per worker (pilot-gateway checks that calls carrying it name this worker
 * and queue), valid for the queue's maxtime plus a margin.
 */
export function tokenIssuer(o: TokenIssuerOptions): (subject: TokenSubject) => string {
  const now = o.now ?? Date.now;
  return ({ workerId, queue, maxtimeS }) =>
    signPilotToken(
      {
        workerId,
        queue,
        expiresAt: now() / 1000 + (maxtimeS > 0 ? maxtimeS : DEFAULT_MAXTIME_S) + o.marginS,
      },
      o.secret,
    );
}
