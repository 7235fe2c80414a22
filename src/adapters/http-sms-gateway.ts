import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { maskMsisdn } from '../privacy/mask.js';
import type { SmsGateway, SmsMessage } from './sms-gateway.js';
import { callWithRetries, TransportFailure } from './http-transport.js';

export interface HttpSmsGatewayOptions {
  /** The gateway's send endpoint; receives POST { msisdn, text }. */
  url: string;
  apiKey?: string;
  /** Per attempt, in ms. */
  timeoutMs: number;
  /** Extra attempts after the first for network errors, timeouts and 5xx. */
  retries: number;
  /** First retry waits this long, each further one twice as long, in ms. */
  backoffMs: number;
  logger?: Logger;
  now?: () => Date;
}

/** A 2xx body may name the gateway's message id; anything else in it is ignored. */
const sendReplySchema = z.object({ id: z.string().min(1) });

/**
 * Sends through an HTTP SMS gateway: POST {url} with JSON { msisdn, text }, an
 * `Idempotency-Key` header (the message id, the same on every retry so a gateway that
 * deduplicates sends one SMS) and `Authorization: Bearer <apiKey>` when configured.
 * Any 2xx is success (its body may carry { id }). Network errors, timeouts and 5xx are retried
 * with exponential backoff; once they run out, and for any other status, send() throws
 * AppError 'sms.unavailable'. Never logs the text.
 */
export class HttpSmsGateway implements SmsGateway {
  private readonly logger: Logger;
  private readonly now: () => Date;

  constructor(private readonly options: HttpSmsGatewayOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'http-sms-gateway' });
    this.now = options.now ?? (() => new Date());
  }

  async send(msisdn: string, text: string): Promise<SmsMessage> {
    const localId = randomUUID();
    const headers: Record<string, string> = { 'idempotency-key': localId };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let reply;
    try {
      reply = await callWithRetries(
        { method: 'POST', url: this.options.url, route: 'POST sms', headers, body: { msisdn, text } },
        this.options,
        this.logger,
      );
    } catch (err) {
      if (err instanceof TransportFailure) {
        throw new AppError('sms.unavailable', { cause: err, message: err.message, details: { kind: err.kind, status: err.status } });
      }
      throw err;
    }
    if (reply.status < 200 || reply.status >= 300) {
      throw new AppError('sms.unavailable', { message: `SMS gateway answered ${reply.status}`, details: { status: reply.status } });
    }
    const id = gatewayId(reply.text) ?? localId;
    this.logger.info('sms handed to the gateway', { msisdn: maskMsisdn(msisdn), smsId: id });
    return { id, msisdn, text, sentAt: this.now().toISOString() };
  }

  async close(): Promise<void> {}
}

function gatewayId(text: string): string | undefined {
  try {
    const parsed = sendReplySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.id : undefined;
  } catch {
    return undefined;
  }
}
