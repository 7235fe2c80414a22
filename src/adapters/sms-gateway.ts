export interface SmsMessage {
  id: string;
  msisdn: string;
  text: string;
  /** ISO timestamp. */
  sentAt: string;
}

/**
 * Sends text messages to subscribers. Implementations: EmbeddedSmsGateway (keeps an outbox in a
 * lowdb file, readable for developers at GET /dev/sms) and HttpSmsGateway.
 * send() throws AppError 'sms.unavailable' when the message could not be handed over.
 * Rate limiting and code generation are not the gateway's job (see IdentityVerifier).
 */
export interface SmsGateway {
  send(msisdn: string, text: string): Promise<SmsMessage>;
  close(): Promise<void>;
}

/** Implemented by gateways that keep what they sent (the embedded one); used by /dev/sms only. */
export interface SmsOutbox {
  /** Messages sent to a number, newest first. */
  list(msisdn: string, limit?: number): Promise<SmsMessage[]>;
}
