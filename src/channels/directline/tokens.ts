import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../errors.js';

/** What a Direct Line token grants: one conversation, for one user, until `exp`. */
export interface TokenClaims {
  /** Conversation id. */
  conv: string;
  /** User id bound to the token; activities posted with it are from this user. */
  user: string;
  /** 'conversation' for the REST API, 'stream' for one WebSocket connection (short-lived). */
  scope: 'conversation' | 'stream';
  /** Issued at and expiry, in seconds since the epoch (JWT convention). */
  iat: number;
  exp: number;
}

const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
const ISSUER = 'tuiding-directline';

function b64(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

/**
 * Issues and checks per-conversation tokens as HS256 JWTs (as Azure's Direct Line tokens are JWTs:
 * the official client reads the `user` claim). Stateless: nothing is stored per token.
 */
export class TokenSigner {
  constructor(private readonly key: Buffer, private readonly now: () => number = Date.now) {}

  /** A signed token valid for ttlSeconds. */
  issue(grant: { conv: string; user: string; scope: TokenClaims['scope'] }, ttlSeconds: number): string {
    const iat = Math.floor(this.now() / 1000);
    const payload = b64(JSON.stringify({ iss: ISSUER, conv: grant.conv, user: grant.user, scope: grant.scope, iat, exp: iat + ttlSeconds }));
    return `${HEADER}.${payload}.${this.sign(`${HEADER}.${payload}`)}`;
  }

  /**
   * The claims of a token this signer issued and that has not expired.
   * Throws AppError 'auth.invalid' for anything else (malformed, tampered, expired, other key).
   */
  verify(token: string): TokenClaims {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER) throw new AppError('auth.invalid', { message: 'not a Direct Line token' });
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AppError('auth.invalid', { message: 'bad token signature' });
    let claims: Partial<TokenClaims> & { iss?: unknown };
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
    } catch (err) {
      throw new AppError('auth.invalid', { cause: err, message: 'unreadable token' });
    }
    if (claims.iss !== ISSUER || typeof claims.conv !== 'string' || typeof claims.user !== 'string'
      || (claims.scope !== 'conversation' && claims.scope !== 'stream') || typeof claims.exp !== 'number' || typeof claims.iat !== 'number') {
      throw new AppError('auth.invalid', { message: 'incomplete token' });
    }
    if (claims.exp * 1000 <= this.now()) throw new AppError('auth.invalid', { message: 'token expired' });
    return claims as TokenClaims;
  }

  private sign(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}

/** Constant-time comparison of a presented secret with the configured one (any lengths). */
export function secretMatches(given: string, secret: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(secret));
}
