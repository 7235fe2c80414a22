import type { RequestStatus } from '../domain/types.js';

/** One conversation's dialog state and how to reach it again. */
export interface ConversationRecord {
  id: string;
  /** The dialog machine's persisted snapshot (JSON). */
  snapshot: unknown;
  machineVersion: number;
  locale: string;
  /** ISO timestamp of the user's last message. */
  lastActiveAt: string;
  /** Bot Framework conversation reference (JSON), for proactive messages. */
  reference: unknown;
  /** A reply language the user asked for (English please / 请用繁体); wins over the activity's locale. */
  pinnedLocale?: string;
  /**
   * The last processed activity and what was answered: a channel retrying the same activity id
   * gets the same answer again instead of a second turn.
   */
  lastActivity?: { id: string; replies: { text: string; choices: { title: string; value: string }[] }[]; state: string };
}

/** Dialog snapshots by conversation id. put() resolves after the record is durable. */
export interface ConversationStore {
  getConversation(id: string): Promise<ConversationRecord | undefined>;
  putConversation(record: ConversationRecord): Promise<void>;
  /**
   * Ids of conversations last active before `before` (ISO time), at most `limit`, in no particular
   * order. Reads every stored conversation: for a background sweep, not for a turn.
   */
  listInactiveConversations(before: string, limit: number): Promise<string[]>;
  /** Removes a conversation's record (an unknown id is fine); resolves once durable. */
  deleteConversation(id: string): Promise<void>;
}

/** A filed request whose status changes the bot must report back in chat. */
export interface TrackedRequest {
  ticket: string;
  conversationId: string;
  msisdn: string;
  serviceName: string;
  /** The last status the user was told about (the receipt counts as 'submitted'). */
  notifiedStatus: RequestStatus;
  /** ISO timestamp. */
  createdAt: string;
}

/** Requests awaiting a status notification. Rows stay until their final status was delivered. */
export interface TrackingStore {
  /** Adds rows; a ticket already tracked is left unchanged (idempotent). */
  track(rows: TrackedRequest[]): Promise<void>;
  /** Tracked requests whose final status has not been delivered yet. */
  listOpen(): Promise<TrackedRequest[]>;
  /** The open row of a ticket; undefined when it is not tracked or already closed. */
  getOpen(ticket: string): Promise<TrackedRequest | undefined>;
  /** Records that the user was told about `status`; final statuses close the row. */
  markNotified(ticket: string, status: RequestStatus): Promise<void>;
  /** Tickets tracked for a conversation, newest first (open and closed). */
  listByConversation(conversationId: string): Promise<TrackedRequest[]>;
}

/** Per-number verification state. Codes are never stored in clear. Times are epoch milliseconds. */
export interface VerificationRecord {
  msisdn: string;
  codeHash: string | null;
  salt: string | null;
  expiresAt: number;
  codeAttempts: number;
  secretAttempts: number;
  /** Send times within the last hour (for rate limiting). */
  sends: number[];
  lockedUntil: number;
  /**
   * The conversation that used the current code (its hash is kept until it expires): that
   * conversation may present it again (a turn replayed after a crash), nobody else may.
   */
  usedBy?: string | null;
}

export interface VerificationStore {
  getVerification(msisdn: string): Promise<VerificationRecord | undefined>;
  putVerification(record: VerificationRecord): Promise<void>;
}

/** Requests for a human agent recorded until the handoff queue exists. */
export interface HandoffRequest {
  conversationId: string;
  reason: string;
  state: string;
  /** ISO timestamp. */
  at: string;
}

export interface HandoffRequestStore {
  recordHandoffRequest(request: HandoffRequest): Promise<void>;
  listHandoffRequests(): Promise<HandoffRequest[]>;
}

export type BotStore = ConversationStore & TrackingStore & VerificationStore & HandoffRequestStore & { close(): Promise<void> };

/** Requests already escalated for missing their service-level deadline. */
export interface SlaStore {
  wasEscalated(ticket: string): Promise<boolean>;
  /** Resolves once durable. */
  markEscalated(ticket: string, at: string, newDueAt: string): Promise<void>;
  close(): Promise<void>;
}
