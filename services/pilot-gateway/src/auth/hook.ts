import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenError, verifyPilotToken } from '@panda/platform';
import type { PilotTokenClaims } from '@panda/platform';

export interface AuthOptions {
  secret?: string;
  /**
   * Without a token: refuse (true) or let through (false: pilots not started by a harvester
   * that signs tokens, i.e. one without PANDA_PILOT_TOKEN_SECRET).
   */
  required: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    pilotToken?: PilotTokenClaims;
  }
}

function deny(reply: FastifyReply, status: 401 | 403, error: string): FastifyReply {
  return reply.code(status).header('www-authenticate', 'Bearer realm="panda-pilot"').send({ error });
}

/**
 * preHandler of the pilot routes: checks `Authorization: Bearer <token>`. A token that is
 * forged, expired or malformed is refused (401) even when tokens are optional; a valid one
 * must name the worker and queue of the body (403 otherwise).
 */
export function pilotAuth(options: AuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const header = request.headers.authorization;
    if (!header) {
      if (options.required) {
        return deny(reply, 401, 'missing token: send "Authorization: Bearer <token>" as issued by harvester');
      }
      return undefined;
    }
    if (!options.secret) return undefined; // tokens are not checked by this gateway
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return deny(reply, 401, 'token rejected: Authorization must be "Bearer <token>"');
    let claims: PilotTokenClaims;
    try {
      claims = verifyPilotToken(m[1]!, options.secret);
    } catch (err) {
      if (err instanceof TokenError) return deny(reply, 401, `token rejected: ${err.message}`);
      throw err;
    }
    const body = (request.body ?? {}) as { workerId?: unknown; queue?: unknown };
    if (typeof body.workerId === 'string' && body.workerId !== '' && body.workerId !== claims.workerId) {
      return deny(reply, 403, `token is for worker ${claims.workerId}, not ${body.workerId}`);
    }
    if (typeof body.queue === 'string' && body.queue !== '' && body.queue !== claims.queue) {
      return deny(reply, 403, `token is for queue ${claims.queue}, not ${body.queue}`);
    }
    request.pilotToken = claims;
    return undefined;
  };
}
