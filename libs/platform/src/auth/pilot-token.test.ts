import { describe, expect, it } from 'vitest';
import { signPilotToken, TokenError, verifyPilotToken } from './pilot-token.js';

const secret = 'a-secret-of-32-characters-length';
const claims = { workerId: 'w-7', queue: 'SLAC_Rubin', expiresAt: 2_000_000_000 };

describe('pilot tokens', () => {
  it('verifies what it signed', () => {
    expect(verifyPilotToken(signPilotToken(claims, secret), secret, 0)).toEqual(claims);
  });

  it('refuses a token with changed claims, another secret, a past expiry or a bad shape', () => {
    const token = signPilotToken(claims, secret);
    const [v, , sig] = token.split('.');
    const forged = `${v}.${Buffer.from(JSON.stringify({ w: 'w-8', q: 'SLAC_Rubin', exp: 2_000_000_000 })).toString('base64url')}.${sig}`;
    const problem = (t: string, s = secret, now = 0) => {
      try {
        verifyPilotToken(t, s, now);
        return 'accepted';
      } catch (err) {
        return err instanceof TokenError ? `${err.problem}: ${err.message}` : 'other';
      }
    };
    expect(problem(forged)).toMatch(/^bad signature/);
    expect(problem(token, 'another-secret-of-enough-length')).toMatch(/^bad signature/);
    expect(problem(token, secret, 2_000_000_000_000)).toBe(
      'expired: token expired at 2033-05-18T03:33:20.000Z',
    );
    expect(problem('abc')).toMatch(/^malformed/);
    expect(problem(`v2.${token.slice(3)}`)).toMatch(/^malformed/);
  });
});
