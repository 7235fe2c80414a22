import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { OperatorBackend } from '../adapters/operator-backend.js';
import type { SmsGateway } from '../adapters/sms-gateway.js';
import type { Translate } from '../i18n/i18n.js';
import type { VerificationRecord, VerificationStore } from '../store/stores.js';

export type SendResult = { kind: 'sent' } | { kind: 'rateLimited' } | { kind: 'unknownNumber' } | { kind: 'locked'; minutes: number };
export type CheckResult =
  | { kind: 'verified' }
  | { kind: 'failed'; attemptsLeft: number }
  | { kind: 'expired' }
  | { kind: 'locked'; minutes: number };

export interface VerificationSettings {
  codeTtlSeconds: number;
  resendSeconds: number;
  maxPerHour: number;
  /** Codes one conversation may have sent (to any numbers) per hour. */
  maxPerConversationHour: number;
  lockMinutes: number;
  /** Wrong codes (and, separately, wrong secrets) allowed before the number is locked. */
  maxAttempts: number;
}

const HOUR_MS = 3_600_000;

/**
 * SMS codes and secondary secrets, per number. Codes are 6 digits, kept only as salted SHA-256
 * hashes, expire after codeTtlSeconds and are single-use: once used, a code is good only for the
 * conversation that used it (so a turn replayed after a crash between the check and saving the
 * dialog still passes), until it expires. Sends are rate-limited per number
 * (one per resendSeconds, maxPerHour per hour). Too many wrong answers lock the number for lockMinutes.
 * Throws AppError 'sms.unavailable' (from the gateway) and back-end errors; never returns null.
 */
export class IdentityVerifier {
  constructor(private readonly deps: {
    store: VerificationStore;
    sms: SmsGateway;
    backend: OperatorBackend;
    t: Translate;
    now: () => number;
    settings: VerificationSettings;
  }) {}

  /**
   * Sends a code, limited per number (resendSeconds, maxPerHour) and per conversation
   * (maxPerConversationHour), so the bot cannot be used to flood anyone's phone.
   */
  async sendCode(msisdn: string, locale: string, conversationId: string): Promise<SendResult> {
    const { store, sms, backend, t, now, settings } = this.deps;
    const at = now();
    const rec = (await store.getVerification(msisdn)) ?? blank(msisdn);
    if (rec.lockedUntil > at) return { kind: 'locked', minutes: minutesLeft(rec.lockedUntil, at) };
    rec.sends = rec.sends.filter((s) => s > at - HOUR_MS);
    const last = rec.sends[rec.sends.length - 1];
    if (rec.sends.length >= settings.maxPerHour || (last !== undefined && at - last < settings.resendSeconds * 1000)) {
      return { kind: 'rateLimited' };
    }
    // The per-conversation count lives in the same store under its own key.
    const convKey = `conversation:${conversationId}`;
    const conv = (await store.getVerification(convKey)) ?? blank(convKey);
    conv.sends = conv.sends.filter((s) => s > at - HOUR_MS);
    if (conv.sends.length >= settings.maxPerConversationHour) return { kind: 'rateLimited' };
    if (!(await backend.hasSubscriber(msisdn))) return { kind: 'unknownNumber' };
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const salt = randomBytes(16).toString('hex');
    await sms.send(msisdn, t('sms.code.text', { code }, locale));
    rec.codeHash = hash(salt, code);
    rec.salt = salt;
    rec.expiresAt = at + settings.codeTtlSeconds * 1000;
    rec.codeAttempts = 0;
    rec.usedBy = null;
    rec.sends.push(at);
    conv.sends.push(at);
    await Promise.all([store.putVerification(rec), store.putVerification(conv)]);
    return { kind: 'sent' };
  }

  /** Checks a code sent to `msisdn`, on behalf of `conversationId`. */
  async checkCode(msisdn: string, code: string, conversationId: string): Promise<CheckResult> {
    const { store, now } = this.deps;
    const at = now();
    const rec = (await store.getVerification(msisdn)) ?? blank(msisdn);
    if (rec.lockedUntil > at) return { kind: 'locked', minutes: minutesLeft(rec.lockedUntil, at) };
    if (!rec.codeHash || !rec.salt || rec.expiresAt <= at) return { kind: 'expired' };
    const used = rec.usedBy != null;
    if (used && rec.usedBy !== conversationId) return { kind: 'expired' };
    if (safeEqual(rec.codeHash, hash(rec.salt, code))) {
      if (used) return { kind: 'verified' };
      rec.usedBy = conversationId;
      rec.codeAttempts = 0;
      await store.putVerification(rec);
      return { kind: 'verified' };
    }
    // A used code is spent: guesses at it are not counted, and it cannot be matched by anyone else.
    if (used) return { kind: 'expired' };
    rec.codeAttempts += 1;
    const result = this.failOrLock(rec, rec.codeAttempts, at);
    if (result.kind === 'locked') { rec.codeHash = null; rec.salt = null; }
    await store.putVerification(rec);
    return result;
  }

  /** Checks a 服务密码 or the last 6 ID digits: either one is accepted. */
  async checkSecret(msisdn: string, value: string): Promise<CheckResult> {
    const { store, backend, now } = this.deps;
    const at = now();
    const rec = (await store.getVerification(msisdn)) ?? blank(msisdn);
    if (rec.lockedUntil > at) return { kind: 'locked', minutes: minutesLeft(rec.lockedUntil, at) };
    const ok = (/^\d{6}$/.test(value) && (await backend.verifySecret(msisdn, 'servicePassword', value)))
      || (await backend.verifySecret(msisdn, 'idLast6', value.toUpperCase()));
    if (ok) {
      rec.secretAttempts = 0;
      await store.putVerification(rec);
      return { kind: 'verified' };
    }
    rec.secretAttempts += 1;
    const result = this.failOrLock(rec, rec.secretAttempts, at);
    await store.putVerification(rec);
    return result;
  }

  private failOrLock(rec: VerificationRecord, attempts: number, at: number): CheckResult {
    const { settings } = this.deps;
    if (attempts >= settings.maxAttempts) {
      rec.lockedUntil = at + settings.lockMinutes * 60_000;
      rec.codeAttempts = 0;
      rec.secretAttempts = 0;
      return { kind: 'locked', minutes: settings.lockMinutes };
    }
    return { kind: 'failed', attemptsLeft: settings.maxAttempts - attempts };
  }
}

function blank(msisdn: string): VerificationRecord {
  return { msisdn, codeHash: null, salt: null, expiresAt: 0, codeAttempts: 0, secretAttempts: 0, sends: [], lockedUntil: 0 };
}

function hash(salt: string, code: string): string {
  return createHash('sha256').update(`${salt}:${code}`).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function minutesLeft(until: number, at: number): number {
  return Math.max(1, Math.ceil((until - at) / 60_000));
}
