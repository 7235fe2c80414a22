import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { maskMsisdn } from '../privacy/mask.js';
import { existsSync, readFileSync } from 'node:fs';
import { BatchedAppender } from '../store/batched-append.js';
import { claimDataFile, releaseLock } from '../store/json-file-db.js';
import type { SmsGateway, SmsMessage, SmsOutbox } from './sms-gateway.js';

export interface EmbeddedSmsGatewayOptions {
  /** The outbox file, JSON lines (created on first use). */
  file: string;
  logger?: Logger;
  now?: () => Date;
}

/** Messages kept per number; older ones are dropped. */
export const KEEP_PER_NUMBER = 50;

interface Outbox {
  /** Newest first, at most KEEP_PER_NUMBER per number. */
  byNumber: Map<string, SmsMessage[]>;
  appender: BatchedAppender<SmsMessage>;
  lockFile: string;
}

/**
 * An SMS gateway that delivers nothing: it keeps what it "sent" in an append-only JSON-lines
 * outbox file (one line per message, concurrent sends share one write) that developers read at
 * GET /dev/sms?msisdn=…. A send resolves once its line is in the file; the file is not fdatasync'd:
 * it stands in for a remote gateway's log, and a line lost to a power loss only means a code the
 * user asks for again. Logs one line per message with the masked number and
 * never the text (it carries verification codes). One process per file (a `.lock` beside it).
 * Methods called after close() throw 'sms.unavailable'.
 */
export class EmbeddedSmsGateway implements SmsGateway, SmsOutbox {
  private readonly logger: Logger;
  private readonly now: () => Date;
  private opening: Promise<Outbox> | undefined;
  private closed = false;

  constructor(private readonly options: EmbeddedSmsGatewayOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'embedded-sms-gateway' });
    this.now = options.now ?? (() => new Date());
  }

  async send(msisdn: string, text: string): Promise<SmsMessage> {
    const outbox = await this.outbox();
    const message: SmsMessage = { id: randomUUID(), msisdn, text, sentAt: this.now().toISOString() };
    await outbox.appender.append(message);
    keep(outbox.byNumber, message);
    const masked = maskMsisdn(msisdn);
    this.logger.info(`sms to ${masked} kept in the dev outbox: GET /dev/sms?msisdn=${masked}`, { msisdn: masked, smsId: message.id });
    return { ...message };
  }

  async list(msisdn: string, limit = KEEP_PER_NUMBER): Promise<SmsMessage[]> {
    const outbox = await this.outbox();
    return (outbox.byNumber.get(msisdn) ?? []).slice(0, Math.max(0, limit)).map((m) => ({ ...m }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opening) {
      const outbox = await this.opening.catch(() => undefined);
      if (outbox) {
        await outbox.appender.close();
        releaseLock(outbox.lockFile);
      }
    }
  }

  private outbox(): Promise<Outbox> {
    if (this.closed) return Promise.reject(new AppError('sms.unavailable', { message: 'the embedded SMS gateway is closed' }));
    this.opening ??= this.open().catch((err: unknown) => {
      this.opening = undefined;
      throw new AppError('sms.unavailable', { cause: err, message: 'cannot open the SMS outbox file' });
    });
    return this.opening;
  }

  private async open(): Promise<Outbox> {
    const file = this.options.file;
    const lockFile = claimDataFile(file);
    const byNumber = new Map<string, SmsMessage[]>();
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          keep(byNumber, JSON.parse(line) as SmsMessage);
        } catch {
          // A torn last line from a crash mid-write: the message before it are intact.
        }
      }
    }
    return { byNumber, lockFile, appender: new BatchedAppender<SmsMessage>(file, (batch) => batch.map((m) => `${JSON.stringify(m)}\n`).join(''), undefined, false) };
  }
}

function keep(byNumber: Map<string, SmsMessage[]>, message: SmsMessage): void {
  byNumber.set(message.msisdn, [message, ...(byNumber.get(message.msisdn) ?? [])].slice(0, KEEP_PER_NUMBER));
}
