import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/errors.js';
import { secretMatches, TokenSigner } from '../../../src/channels/directline/tokens.js';

const key = randomBytes(32);
const grant = { conv: 'conv-a', user: 'dl_user', scope: 'conversation' } as const;

function rejects(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return isAppError(err, 'auth.invalid');
  }
}

describe('Direct Line tokens', () => {
  it('grants exactly the conversation and user they were issued for', () => {
    const signer = new TokenSigner(key);
    const claims = signer.verify(signer.issue(grant, 60));
    expect(claims).toMatchObject(grant);
    expect(claims.exp - claims.iat).toBe(60);
  });

  it('are JWTs whose user claim the official client can read', () => {
    const token = new TokenSigner(key).issue(grant, 60);
    const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload?.user).toBe('dl_user');
  });

  it('stop working when they expire', () => {
    let now = 1_000_000;
    const signer = new TokenSigner(key, () => now);
    const token = signer.issue(grant, 60);
    now += 59_000;
    expect(signer.verify(token).conv).toBe('conv-a');
    now += 1_000;
    expect(rejects(() => signer.verify(token))).toBe(true);
  });

  it('cannot be altered or made with another key', () => {
    const signer = new TokenSigner(key);
    const [h, , s] = signer.issue(grant, 60).split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ iss: 'tuiding-directline', conv: 'conv-b', user: 'dl_user', scope: 'conversation', iat: 0, exp: 9e9 })).toString('base64url');
    expect(rejects(() => signer.verify(`${h}.${forgedPayload}.${s}`))).toBe(true);
    expect(rejects(() => signer.verify(new TokenSigner(randomBytes(32)).issue(grant, 60)))).toBe(true);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(rejects(() => signer.verify(`${none}.${forgedPayload}.`))).toBe(true);
    for (const junk of ['', 'a.b', 'a.b.c', '...']) expect(rejects(() => signer.verify(junk)), junk).toBe(true);
  });

  it('compares secrets of any length without throwing', () => {
    expect(secretMatches('s3cret-s3cret-s3cret', 's3cret-s3cret-s3cret')).toBe(true);
    expect(secretMatches('short', 's3cret-s3cret-s3cret')).toBe(false);
    expect(secretMatches('', 's3cret')).toBe(false);
  });
});
