import type { FiledDispute, FiledRequest } from '../../dialogs/unsubscribe.types.js';
import type { OperatorBackend } from '../adapters/operator-backend.js';
import { kindOf, type Charge, type UnsubscribeRequest } from '../domain/types.js';
import { isAppError } from '../errors.js';
import type { AuditLog } from '../store/audit-log.js';
import type { TrackedRequest, TrackingStore } from '../store/stores.js';

/**
 * Refunds around a cancellation: charges booked after a cancellation took effect (which the
 * subscriber does not owe), and the tracking rows of every ticket a filing opened, refunds included.
 */

/** A number's charges; none for a number that is no longer ours (closed): its bill is settled at the store. */
async function chargesOf(backend: OperatorBackend, msisdn: string): Promise<Charge[]> {
  try {
    return await backend.listCharges(msisdn);
  } catch (err) {
    if (isAppError(err, 'backend.unknownSubscriber')) return [];
    throw err;
  }
}

/** Charges of a completed cancellation's subscription booked after its effective date, newest first. */
export function chargesAfter(request: UnsubscribeRequest, charges: Charge[]): Charge[] {
  if (kindOf(request) !== 'unsubscription' || request.status !== 'completed') return [];
  const effective = Date.parse(request.effectiveAt);
  return charges.filter((c) => c.msisdn === request.msisdn && c.subscriptionId === request.subscriptionId && Date.parse(c.chargedAt) > effective);
}

/** Adds, to each completed cancellation that was charged after its effective date, what was charged (one bill look-up per number). */
export async function withStrayCharges(backend: OperatorBackend, requests: UnsubscribeRequest[], filed: FiledRequest[]): Promise<FiledRequest[]> {
  const bills = new Map<string, Charge[]>();
  const out: FiledRequest[] = [];
  for (const [i, r] of requests.entries()) {
    const f = filed[i]!;
    if (kindOf(r) !== 'unsubscription' || r.status !== 'completed') {
      out.push(f);
      continue;
    }
    if (!bills.has(r.msisdn)) bills.set(r.msisdn, await chargesOf(backend, r.msisdn));
    const stray = chargesAfter(r, bills.get(r.msisdn)!);
    out.push(stray.length > 0 ? { ...f, strayCharge: { amountFen: stray.reduce((sum, c) => sum + c.amountFen, 0), chargedAt: stray[0]!.chargedAt } } : f);
  }
  return out;
}

/**
 * Files one refund claim per cancellation for the charges booked after it took effect, tracks it
 * for status notifications and audits it. The key is derived from the cancellation and the charges,
 * so asking again files nothing twice. Throws when the back end fails.
 */
export async function claimStrayCharges(
  deps: { backend: OperatorBackend; store: TrackingStore; audit: AuditLog },
  tickets: string[],
  conversationId: string,
): Promise<FiledDispute[]> {
  const { backend, store, audit } = deps;
  const disputes: FiledDispute[] = [];
  for (const ticket of tickets) {
    const request = await backend.getRequest(ticket);
    const stray = chargesAfter(request, await backend.listCharges(request.msisdn));
    if (stray.length === 0) continue;
    const chargeIds = stray.map((c) => c.chargeId).sort();
    const d = await backend.fileDispute({
      msisdn: request.msisdn, subscriptionId: request.subscriptionId, chargeIds, parentTicket: ticket,
      idempotencyKey: `charged-after:${ticket}:${chargeIds.join('+')}`,
    });
    await store.track([{ ticket: d.ticket, conversationId, msisdn: request.msisdn, serviceName: d.serviceName, notifiedStatus: 'submitted', createdAt: d.createdAt }]);
    await audit.append({ type: 'dispute.filed', ticket: d.ticket, conversationId, msisdn: request.msisdn, claimedFen: d.claimedFen, parentTicket: ticket });
    disputes.push({ ticket: d.ticket, serviceId: request.serviceId, serviceName: d.serviceName, claimedFen: d.claimedFen, dueAt: d.dueAt });
  }
  return disputes;
}

/** Tracking rows for what one filing opened: each request, its balance refund, and its refund claims. */
export function trackingRows(filed: UnsubscribeRequest[], disputes: { ticket: string; serviceName: string; createdAt: string }[], conversationId: string, msisdn: string): TrackedRequest[] {
  const row = (ticket: string, serviceName: string, createdAt: string): TrackedRequest => ({ ticket, conversationId, msisdn, serviceName, notifiedStatus: 'submitted', createdAt });
  return [
    ...filed.flatMap((r) => [row(r.ticket, r.serviceName, r.createdAt), ...(r.refundTicket ? [row(r.refundTicket, r.serviceName, r.createdAt)] : [])]),
    ...disputes.map((d) => row(d.ticket, d.serviceName, d.createdAt)),
  ];
}
