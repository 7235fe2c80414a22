import { createHash } from 'node:crypto';
import type { UnsubscribeRequest } from './types.js';

/**
 * The verification code printed on a receipt: a hash of the request record's fixed fields, so a
 * receipt shown later (a screenshot, a complaint) can be checked against the operator's record.
 * 10 characters of base-32, without the look-alikes 0/O and 1/I.
 */
export function receiptCode(request: Pick<UnsubscribeRequest, 'ticket' | 'msisdn' | 'subscriptionId' | 'serviceId' | 'createdAt' | 'effectiveAt'>): string {
  const record = [request.ticket, request.msisdn, request.subscriptionId, request.serviceId, request.createdAt, request.effectiveAt].join('|');
  const digest = createHash('sha256').update(record).digest();
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[digest[i]! % 32];
  return out;
}
