import { verifyPilotToken } from '@panda/platform';
import { describe, expect, it } from 'vitest';
import { tokenIssuer } from './issuer.js';

const secret = 'harvester-and-gateway-share-this';
const nowMs = 1_800_000_000_000;

describe('tokenIssuer', () => {
  it('signs a token for the worker and queue, valid for maxtime plus the margin', () => {
    const issue = tokenIssuer({ secret, marginS: 600, now: () => nowMs });
    const token = issue({ workerId: 'w-1', queue: 'SLAC_Rubin', maxtimeS: 3600 });
    expect(verifyPilotToken(token, secret, nowMs)).toEqual({
      workerId: 'w-1',
      queue: 'SLAC_Rubin',
      expiresAt: nowMs / 1000 + 3600 + 600,
    });
    // and it has expired once maxtime and margin are over
    expect(() => verifyPilotToken(token, secret, nowMs + (3600 + 600) * 1000)).toThrow(/expired/);
  });

  it('gives each worker its own token, which another secret does not accept', () => {
    const issue = tokenIssuer({ secret, marginS: 0, now: () => nowMs });
    const a = issue({ workerId: 'w-1', queue: 'Q', maxtimeS: 60 });
    const b = issue({ workerId: 'w-2', queue: 'Q', maxtimeS: 60 });
    expect(a).not.toBe(b);
    expect(() => verifyPilotToken(a, 'some-other-secret-of-length', nowMs)).toThrow(/signature/);
  });

  it('uses a week when the queue states no maxtime', () => {
    const issue = tokenIssuer({ secret, marginS: 10, now: () => nowMs });
    const claims = verifyPilotToken(issue({ workerId: 'w', queue: 'Q', maxtimeS: 0 }), secret, nowMs);
    expect(claims.expiresAt).toBe(nowMs / 1000 + 7 * 24 * 3600 + 10);
  });
});
