import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Per-worker pilot tokens: `v1.<payload>.<signature>`, the payload base64url JSON
 * `{"w": workerId, "q": queue, "exp": seconds since the epoch}`, the signature base64url
 * HMAC-SHA256 of `v1.<payload>` with a secret shared by harvester (which signs) and
 * pilot-gateway (which verifies).
 */
export interface PilotTokenClaims {
  workerId: string;
  queue: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export type TokenProblem = 'malformed' | 'bad signature' | 'expired';

export class TokenError extends Error {
  constructor(
    readonly problem: TokenProblem,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

const VERSION = 'v1';

const mac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest();

export function signPilotToken(claims: PilotTokenClaims, secret: string): string {
  const payload = Buffer.from(
    JSON.stringify({ w: claims.workerId, q: claims.queue, exp: Math.floor(claims.expiresAt) }),
  ).toString('base64url');
  const signed = `${VERSION}.${payload}`;
  return `${signed}.${mac(secret, signed).toString('base64url')}`;
}

/** The claims of a valid token; throws TokenError saying what is wrong otherwise. */
export function verifyPilotToken(token: string, secret: string, nowMs = Date.now()): PilotTokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) {
    throw new TokenError('malformed', `malformed token: expected ${VERSION}.<payload>.<signature>`);
  }
  const [, payload, signature] = parts as [string, string, string];
  const expected = mac(secret, `${VERSION}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TokenError(
      'bad signature',
      'token signature does not match (forged, or signed with another secret)',
    );
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed', 'malformed token: payload is not JSON');
  }
  const c = claims as { w?: unknown; q?: unknown; exp?: unknown };
  if (typeof c.w !== 'string' || typeof c.q !== 'string' || typeof c.exp !== 'number') {
    throw new TokenError('malformed', 'malformed token: payload needs w, q and exp');
  }
  if (c.exp * 1000 <= nowMs) {
    throw new TokenError('expired', `token expired at ${new Date(c.exp * 1000).toISOString()}`);
  }
  return { workerId: c.w, queue: c.q, expiresAt: c.exp };
}
