import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { maskMsisdn } from '../privacy/mask.js';
import { JsonFileDb } from '../store/json-file-db.js';
import type { SmsGateway, SmsMessage, SmsOutbox } from './sms-gateway.js';

export interface EmbeddedSmsGatewayOptions {
  /** The lowdb outbox file (created on first use). */
  file: string;
  logger?: Logger;
  now?: () => Date;
}

interface OutboxData {
  /** Newest first, at most KEEP_PER_NUMBER per number. */
  outbox: Record<string, SmsMessage[]>;
}

/** Messages kept per number; older ones are dropped. */
export const KEEP_PER_NUMBER = 50;

/**
 * An SMS gateway that delivers nothing: it keeps what it "sent" in a lowdb outbox file that
 * developers read at GET /dev/sms?msisdn=…. Logs one line per message with the masked number and
 * never the text (it carries verification codes).
 * Methods called after close() throw 'sms.unavailable'.
 */
export class EmbeddedSmsGateway implements SmsGateway, SmsOutbox {
  private readonly logger: Logger;
  private readonly now: () => Date;
  private opening: Promise<JsonFileDb<OutboxData>> | undefined;
  private closed = false;

  constructor(private readonly options: EmbeddedSmsGatewayOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'embedded-sms-gateway' });
    this.now = options.now ?? (() => new Date());
  }

  async send(msisdn: string, text: string): Promise<SmsMessage> {
    const db = await this.db();
    const message: SmsMessage = { id: randomUUID(), msisdn, text, sentAt: this.now().toISOString() };
    await db.update((data) => {
      const kept = [message, ...(data.outbox[msisdn] ?? [])].slice(0, KEEP_PER_NUMBER);
      data.outbox[msisdn] = kept;
    });
    const masked = maskMsisdn(msisdn);
    this.logger.info(`sms to ${masked} kept in the dev outbox: GET /dev/sms?msisdn=${masked}`, { msisdn: masked, smsId: message.id });
    return { ...message };
  }

  async list(msisdn: string, limit = KEEP_PER_NUMBER): Promise<SmsMessage[]> {
    const db = await this.db();
    return (db.data.outbox[msisdn] ?? []).slice(0, Math.max(0, limit)).map((m) => ({ ...m }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opening) {
      const db = await this.opening.catch(() => undefined);
      await db?.close();
    }
  }

  private db(): Promise<JsonFileDb<OutboxData>> {
    if (this.closed) return Promise.reject(new AppError('sms.unavailable', { message: 'the embedded SMS gateway is closed' }));
    this.opening ??= JsonFileDb.open<OutboxData>(this.options.file, { outbox: {} }).catch((err: unknown) => {
      this.opening = undefined;
      throw new AppError('sms.unavailable', { cause: err, message: 'cannot open the SMS outbox file' });
    });
    return this.opening;
  }
}
