/**
 * OperatorBackend over the operator's REST API (docs/operator-api.md has the same text with examples).
 *
 * All bodies are JSON (UTF-8). Money in fen (integers), timestamps ISO-8601. With an apiKey every
 * call carries `Authorization: Bearer <apiKey>`. Numbers (msisdn) are 11 digits, no +86.
 *
 *   GET  /subscribers/{msisdn}
 *        200 SubscriberProfile  { msisdn, arrearsFen, balanceFen, boundAccounts: string[] }
 *        404 not our (active) number
 *   GET  /subscribers/{msisdn}/subscriptions
 *        200 { subscriptions: Subscription[] }   (active ones, including plan, broadband, number line)
 *        404 unknown number
 *   POST /subscribers/{msisdn}/secrets/verify    body { kind: 'servicePassword' | 'idLast6', value }
 *        200 { match: boolean }
 *        404 unknown number
 *   POST /unsubscriptions    header Idempotency-Key: <key>    body { msisdn, subscriptionId, notBefore? }
 *        200/201 UnsubscribeRequest  (the same request for a key already seen, whatever the body says)
 *        404 { error: { code: 'unknownSubscriber' | 'unknownSubscription' } }
 *        notBefore (ISO): the operator must not start processing before then (the undo window)
 *   POST /disputes    header Idempotency-Key: <key>    body { msisdn, subscriptionId, chargeIds?, parentTicket? }
 *        (refund claim: 未经同意订购, or exactly chargeIds, billed after the cancellation parentTicket took effect)
 *        200/201 { ticket, msisdn, subscriptionId, serviceName, claimedFen, status, createdAt, dueAt }
 *        404 { error: { code: 'unknownSubscriber' | 'unknownSubscription' } };  422 a charge id that is not that subscription's
 *   GET  /subscribers/{msisdn}/charges
 *        200 { charges: Charge[] }  newest first: { chargeId, msisdn, subscriptionId, serviceId, serviceName, amountFen, chargedAt }
 *   POST /subscribers/{msisdn}/service-password    header Idempotency-Key: <key>    body { newSecret }
 *        200 { msisdn, changedAt };  422 a password the operator refuses;  404 unknown number
 *   POST /subscribers/{msisdn}/suspension    header Idempotency-Key: <key>   (挂失停机, lost or stolen phone)
 *        200/201 { ticket, msisdn, suspendedAt };  404 unknown number
 *   POST /unsubscriptions/{ticket}/withdraw
 *        200 UnsubscribeRequest with status 'withdrawn' (also when it already was)
 *        409 processing has started or the request is final;  404 unknown ticket
 *   GET  /unsubscriptions/{ticket}    (any ticket: cancellations, refund claims, balance refunds)
 *        200 UnsubscribeRequest, with kind 'dispute' | 'balanceRefund' and amountFen, dueAt, refundChannel,
 *            refundTicket, parentTicket where they apply;  404 unknown ticket
 *   GET  /unsubscriptions?msisdn=&status=        (both optional)
 *        200 { requests: UnsubscribeRequest[] }  newest first
 *   Webhook (operator → bot): POST of one UnsubscribeRequest whenever its status changes; the bot's
 *   route hands the parsed body to receiveStatusEvent().
 *
 * Errors: { error: { code: string, message?: string } } with any 4xx/5xx.
 *   404 → 'backend.unknownSubscriber' / 'backend.unknownSubscription' / 'backend.unknownRequest'
 *         (from error.code when given, otherwise by endpoint); other 4xx → 'backend.rejected';
 *   5xx and network errors → retried, then 'backend.unavailable'; timeouts → retried, then
 *   'backend.timeout'; a 2xx body that is not the documented shape → 'backend.badResponse'.
 * Retries wait backoffMs * 2^n and resend the same Idempotency-Key, so a filing the operator got
 * but whose answer was lost is not filed twice.
 */
import { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Charge, SubscriberProfile, Subscription, UnsubscribeRequest } from '../domain/types.js';
import type {
  ChargeDispute, FileDisputeInput, FileUnsubscriptionInput, LineSuspension, OperatorBackend, PasswordChange, RequestQuery, SecretKind,
} from './operator-backend.js';
import { callWithRetries, TransportFailure, type HttpCall } from './http-transport.js';

export interface HttpOperatorBackendOptions {
  /** e.g. https://boss.example.com/api/v1 (no trailing slash needed). */
  baseUrl: string;
  apiKey?: string;
  /** Per attempt, in ms. */
  timeoutMs: number;
  /** Extra attempts after the first for network errors, timeouts and 5xx. */
  retries: number;
  /** First retry waits this long, each further one twice as long, in ms. */
  backoffMs: number;
  logger?: Logger;
}

const targetSchema = z.enum(['vas', 'addon', 'plan', 'broadband', 'number']);

export const subscriberProfileSchema = z.object({
  msisdn: z.string(),
  arrearsFen: z.number().int(),
  balanceFen: z.number().int(),
  boundAccounts: z.array(z.string()),
});

export const subscriptionSchema = z.object({
  subscriptionId: z.string(),
  serviceId: z.string(),
  name: z.string(),
  target: targetSchema,
  monthlyFeeFen: z.number().int(),
  since: z.string(),
  channel: z.string(),
  effective: z.enum(['immediate', 'nextMonth', 'afterVisit']),
  refundThisMonth: z.boolean(),
  risk: z.enum(['sms', 'strong']),
  contractEndsAt: z.string().nullable(),
  penaltyFen: z.number().int(),
  notes: z.array(z.string()),
  lastUsedAt: z.string().nullable().default(null),
  orderConfirmation: z.enum(['sms', 'signature']).nullable().default(null),
  pendingTicket: z.string().min(1).nullable().default(null),
});

const disputeSchema = z.object({
  ticket: z.string().min(1),
  msisdn: z.string(),
  subscriptionId: z.string(),
  serviceName: z.string(),
  claimedFen: z.number().int().nonnegative(),
  status: z.enum(['submitted', 'processing', 'completed', 'rejected']),
  createdAt: z.string(),
  dueAt: z.string(),
});

const chargeSchema = z.object({
  chargeId: z.string().min(1),
  msisdn: z.string(),
  subscriptionId: z.string(),
  serviceId: z.string(),
  serviceName: z.string(),
  amountFen: z.number().int(),
  chargedAt: z.string(),
});

const chargesReplySchema = z.object({ charges: z.array(chargeSchema) });

const passwordChangeSchema = z.object({ msisdn: z.string(), changedAt: z.string() });

const suspensionSchema = z.object({ ticket: z.string().min(1), msisdn: z.string(), suspendedAt: z.string() });

export const unsubscribeRequestSchema = z.object({
  ticket: z.string().min(1),
  msisdn: z.string(),
  subscriptionId: z.string(),
  serviceId: z.string(),
  serviceName: z.string(),
  target: targetSchema,
  status: z.enum(['submitted', 'processing', 'completed', 'rejected', 'withdrawn']),
  reasonKey: z.string().nullable(),
  idempotencyKey: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  effectiveAt: z.string(),
  kind: z.enum(['unsubscription', 'dispute', 'balanceRefund']).optional(),
  amountFen: z.number().int().nonnegative().optional(),
  refundChannel: z.enum(['original', 'store']).optional(),
  dueAt: z.string().optional(),
  refundTicket: z.string().optional(),
  parentTicket: z.string().optional(),
});

const subscriptionsReplySchema = z.object({ subscriptions: z.array(subscriptionSchema) });
const verifyReplySchema = z.object({ match: z.boolean() });
const requestsReplySchema = z.object({ requests: z.array(unsubscribeRequestSchema) });
const errorReplySchema = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

const NOT_FOUND_CODES: Record<string, ErrorCode> = {
  unknownSubscriber: 'backend.unknownSubscriber',
  unknownSubscription: 'backend.unknownSubscription',
  unknownRequest: 'backend.unknownRequest',
};

/**
 * OperatorBackend over HTTP. Status changes arrive by webhook (receiveStatusEvent); callers that
 * must not miss one also poll getRequest, as the interface asks. start() and close() only manage
 * listeners: there is no connection to keep.
 */
export class HttpOperatorBackend implements OperatorBackend {
  private readonly baseUrl: string;
  private readonly logger: Logger;
  private readonly listeners = new Set<(request: UnsubscribeRequest) => void>();

  constructor(private readonly options: HttpOperatorBackendOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.logger = (options.logger ?? silentLogger).child({ component: 'http-operator-backend' });
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.listeners.clear();
  }

  async hasSubscriber(msisdn: string): Promise<boolean> {
    try {
      await this.getSubscriber(msisdn);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code === 'backend.unknownSubscriber') return false;
      throw err;
    }
  }

  getSubscriber(msisdn: string): Promise<SubscriberProfile> {
    return this.json(
      { method: 'GET', url: `/subscribers/${seg(msisdn)}`, route: 'GET /subscribers/{msisdn}' },
      'backend.unknownSubscriber',
      subscriberProfileSchema,
    );
  }

  async listSubscriptions(msisdn: string): Promise<Subscription[]> {
    const reply = await this.json(
      { method: 'GET', url: `/subscribers/${seg(msisdn)}/subscriptions`, route: 'GET /subscribers/{msisdn}/subscriptions' },
      'backend.unknownSubscriber',
      subscriptionsReplySchema,
    );
    return reply.subscriptions;
  }

  async verifySecret(msisdn: string, kind: SecretKind, value: string): Promise<boolean> {
    const reply = await this.json(
      {
        method: 'POST',
        url: `/subscribers/${seg(msisdn)}/secrets/verify`,
        route: 'POST /subscribers/{msisdn}/secrets/verify',
        body: { kind, value },
      },
      'backend.unknownSubscriber',
      verifyReplySchema,
    );
    return reply.match;
  }

  fileUnsubscription(input: FileUnsubscriptionInput): Promise<UnsubscribeRequest> {
    return this.json(
      {
        method: 'POST',
        url: '/unsubscriptions',
        route: 'POST /unsubscriptions',
        headers: { 'idempotency-key': input.idempotencyKey },
        body: { msisdn: input.msisdn, subscriptionId: input.subscriptionId, ...(input.notBefore ? { notBefore: input.notBefore } : {}) },
      },
      'backend.unknownSubscription',
      unsubscribeRequestSchema,
    );
  }

  fileDispute(input: FileDisputeInput): Promise<ChargeDispute> {
    return this.json(
      {
        method: 'POST',
        url: '/disputes',
        route: 'POST /disputes',
        headers: { 'idempotency-key': input.idempotencyKey },
        body: {
          msisdn: input.msisdn, subscriptionId: input.subscriptionId,
          ...(input.chargeIds ? { chargeIds: input.chargeIds } : {}), ...(input.parentTicket ? { parentTicket: input.parentTicket } : {}),
        },
      },
      'backend.unknownSubscription',
      disputeSchema,
    );
  }

  async listCharges(msisdn: string): Promise<Charge[]> {
    const reply = await this.json(
      { method: 'GET', url: `/subscribers/${seg(msisdn)}/charges`, route: 'GET /subscribers/{msisdn}/charges' },
      'backend.unknownSubscriber',
      chargesReplySchema,
    );
    return reply.charges;
  }

  changeServicePassword(input: { msisdn: string; newSecret: string; idempotencyKey: string }): Promise<PasswordChange> {
    // The route label, not the body, is what reaches logs and error messages.
    return this.json(
      {
        method: 'POST',
        url: `/subscribers/${seg(input.msisdn)}/service-password`,
        route: 'POST /subscribers/{msisdn}/service-password',
        headers: { 'idempotency-key': input.idempotencyKey },
        body: { newSecret: input.newSecret },
      },
      'backend.unknownSubscriber',
      passwordChangeSchema,
    );
  }

  suspendLine(msisdn: string, idempotencyKey: string): Promise<LineSuspension> {
    return this.json(
      {
        method: 'POST',
        url: `/subscribers/${seg(msisdn)}/suspension`,
        route: 'POST /subscribers/{msisdn}/suspension',
        headers: { 'idempotency-key': idempotencyKey },
        body: {},
      },
      'backend.unknownSubscriber',
      suspensionSchema,
    );
  }

  withdrawUnsubscription(ticket: string): Promise<UnsubscribeRequest> {
    return this.json(
      { method: 'POST', url: `/unsubscriptions/${seg(ticket)}/withdraw`, route: 'POST /unsubscriptions/{ticket}/withdraw', body: {} },
      'backend.unknownRequest',
      unsubscribeRequestSchema,
    );
  }

  getRequest(ticket: string): Promise<UnsubscribeRequest> {
    return this.json(
      { method: 'GET', url: `/unsubscriptions/${seg(ticket)}`, route: 'GET /unsubscriptions/{ticket}' },
      'backend.unknownRequest',
      unsubscribeRequestSchema,
    );
  }

  async listRequests(query: RequestQuery): Promise<UnsubscribeRequest[]> {
    const params = new URLSearchParams();
    if (query.msisdn !== undefined) params.set('msisdn', query.msisdn);
    if (query.status !== undefined) params.set('status', query.status);
    const qs = params.size > 0 ? `?${params.toString()}` : '';
    const reply = await this.json(
      { method: 'GET', url: `/unsubscriptions${qs}`, route: 'GET /unsubscriptions' },
      'backend.rejected',
      requestsReplySchema,
    );
    return reply.requests;
  }

  onStatusChange(listener: (request: UnsubscribeRequest) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Handles one webhook delivery: validates the body as an UnsubscribeRequest, calls every
   * status listener and returns the request. Throws AppError 'input.invalid' for a body of the
   * wrong shape (the route should answer 400 so the operator redelivers nothing broken).
   * Listener exceptions are logged, not thrown.
   */
  receiveStatusEvent(payload: unknown): UnsubscribeRequest {
    const parsed = unsubscribeRequestSchema.safeParse(payload);
    if (!parsed.success) {
      throw new AppError('input.invalid', { cause: parsed.error, message: 'status event is not an unsubscribe request' });
    }
    const request = parsed.data;
    this.logger.info('status event received', { ticket: request.ticket, status: request.status });
    for (const listener of [...this.listeners]) {
      try {
        listener(request);
      } catch (err) {
        this.logger.error('status listener threw', { err, ticket: request.ticket });
      }
    }
    return request;
  }

  private async json<T>(call: HttpCall, notFound: ErrorCode, schema: z.ZodType<T>): Promise<T> {
    const headers: Record<string, string> = { ...call.headers };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let reply;
    try {
      reply = await callWithRetries({ ...call, url: this.baseUrl + call.url, headers }, this.options, this.logger);
    } catch (err) {
      if (err instanceof TransportFailure) {
        this.logger.warn('operator back end unreachable', { route: call.route, kind: err.kind, status: err.status });
        throw new AppError(err.kind === 'timeout' ? 'backend.timeout' : 'backend.unavailable', {
          cause: err,
          message: err.message,
          details: { route: call.route, status: err.status },
        });
      }
      throw err;
    }
    if (reply.status === 404) {
      const code = errorCode(reply.text);
      throw new AppError((code && NOT_FOUND_CODES[code]) || notFound, { message: `${call.route} answered 404`, details: { route: call.route } });
    }
    if (reply.status < 200 || reply.status >= 300) {
      throw new AppError('backend.rejected', {
        message: `${call.route} answered ${reply.status}`,
        details: { route: call.route, status: reply.status, operatorCode: errorCode(reply.text) },
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(reply.text);
    } catch (err) {
      throw new AppError('backend.badResponse', { cause: err, message: `${call.route} answered with a body that is not JSON`, details: { route: call.route } });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new AppError('backend.badResponse', {
        cause: parsed.error,
        message: `${call.route} answered with an unexpected shape`,
        details: { route: call.route },
      });
    }
    return parsed.data;
  }
}

function seg(value: string): string {
  return encodeURIComponent(value);
}

function errorCode(text: string): string | undefined {
  try {
    const parsed = errorReplySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.error.code : undefined;
  } catch {
    return undefined;
  }
}
