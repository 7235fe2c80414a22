import { join } from 'node:path';
import { JsonFileDb } from '../store/json-file-db.js';

export type HandoffStatus = 'pending' | 'assigned' | 'resolved' | 'expired' | 'cancelled';
export type HandoffReason = 'user' | 'misunderstood' | 'identityLocked' | 'backendFailed' | 'complaint' | 'slaBreach' | 'stillCharged';

/** One escalated chat. Times are ISO timestamps. */
export interface HandoffTicket {
  id: string;
  conversationId: string;
  reason: HandoffReason;
  /** The queue it is routed to (e.g. general, broadband, closure). */
  skill: string;
  status: HandoffStatus;
  /** The handoff machine's persisted snapshot. */
  snapshot: unknown;
  agentId: string | null;
  /** The subscriber's number, masked (138****8000), when known. */
  msisdnMasked: string | null;
  /** The dialog state when escalated, as a dotted string. */
  dialogState: string;
  createdAt: string;
  claimedAt: string | null;
  closedAt: string | null;
  /** When a pending ticket expires unless claimed. */
  expiresAt: string;
  /** Raised outside service hours: the user's next message is kept as a message for agents. */
  awaitingLeftMessage: boolean;
  leftMessage: string | null;
  /** While assigned: since when the user's messages wait for an answer from the holder (null: answered). */
  userWaitingSince?: string | null;
}

export interface AuditEntry {
  at: string;
  agentId: string;
  action: 'claim' | 'message' | 'handBack' | 'end';
  ticketId: string;
  detail?: string;
}

/** Durable handoff tickets and the agents' audit trail. Writes resolve once durable. */
export interface HandoffStore {
  getTicket(id: string): Promise<HandoffTicket | undefined>;
  /** The pending or assigned ticket of a conversation, if any. */
  openTicketFor(conversationId: string): Promise<HandoffTicket | undefined>;
  /** Pending and assigned tickets, oldest first. */
  listOpen(): Promise<HandoffTicket[]>;
  /** Closed tickets, newest first. */
  listClosed(limit: number): Promise<HandoffTicket[]>;
  /**
   * Applies `change` to the current ticket atomically (no other update interleaves) and saves it.
   * `change` returns the new ticket, or null to leave it unchanged. Returns the stored result.
   */
  updateTicket(id: string, change: (current: HandoffTicket) => HandoffTicket | null): Promise<HandoffTicket>;
  insertTicket(ticket: HandoffTicket): Promise<void>;
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(ticketId?: string): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

interface HandoffData {
  tickets: Record<string, HandoffTicket>;
  audit: AuditEntry[];
}

/** Handoff tickets and audit in `handoff.json` under DATA_DIR. */
export class LowdbHandoffStore implements HandoffStore {
  private constructor(private readonly db: JsonFileDb<HandoffData>) {}

  static async open(dataDir: string): Promise<LowdbHandoffStore> {
    return new LowdbHandoffStore(await JsonFileDb.open<HandoffData>(join(dataDir, 'handoff.json'), { tickets: {}, audit: [] }));
  }

  async getTicket(id: string): Promise<HandoffTicket | undefined> {
    const t = this.db.data.tickets[id];
    return t ? structuredClone(t) : undefined;
  }

  async openTicketFor(conversationId: string): Promise<HandoffTicket | undefined> {
    const t = Object.values(this.db.data.tickets).find((x) => x.conversationId === conversationId && (x.status === 'pending' || x.status === 'assigned'));
    return t ? structuredClone(t) : undefined;
  }

  async listOpen(): Promise<HandoffTicket[]> {
    return Object.values(this.db.data.tickets)
      .filter((t) => t.status === 'pending' || t.status === 'assigned')
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((t) => structuredClone(t));
  }

  async listClosed(limit: number): Promise<HandoffTicket[]> {
    return Object.values(this.db.data.tickets)
      .filter((t) => t.status !== 'pending' && t.status !== 'assigned')
      .sort((a, b) => (b.closedAt ?? '').localeCompare(a.closedAt ?? ''))
      .slice(0, limit)
      .map((t) => structuredClone(t));
  }

  async updateTicket(id: string, change: (current: HandoffTicket) => HandoffTicket | null): Promise<HandoffTicket> {
    return this.db.update((d) => {
      // Read the plain row: `d` is the store's change-tracking view, which cannot be cloned.
      const current = this.db.data.tickets[id];
      if (!current) throw new Error(`no handoff ticket ${id}`);
      const next = change(structuredClone(current));
      if (next) d.tickets[id] = structuredClone(next);
      return structuredClone(this.db.data.tickets[id]!);
    });
  }

  async insertTicket(ticket: HandoffTicket): Promise<void> {
    await this.db.update((d) => { d.tickets[ticket.id] = structuredClone(ticket); });
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.db.update((d) => { d.audit.push({ ...entry }); });
  }

  async listAudit(ticketId?: string): Promise<AuditEntry[]> {
    return this.db.data.audit.filter((e) => ticketId === undefined || e.ticketId === ticketId).map((e) => ({ ...e }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
