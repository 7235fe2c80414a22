import { FINAL_STATUSES, type RequestStatus } from '../domain/types.js';
import type {
  BotStore, ConversationRecord, HandoffRequest, TrackedRequest, VerificationRecord,
} from './stores.js';

/**
 * The memory twin of LowdbBotStore: the same contract (test/store/bot-store.contract.ts), nothing
 * survives the process. For tests and for measuring the turn path without I/O.
 */
export class MemoryBotStore implements BotStore {
  private readonly conversations = new Map<string, ConversationRecord>();
  private readonly verification = new Map<string, VerificationRecord>();
  /** Every tracked request by ticket, with whether its final status is still to be delivered. */
  private readonly tracked = new Map<string, TrackedRequest & { open: boolean }>();
  private readonly handoffRequests: HandoffRequest[] = [];

  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    const r = this.conversations.get(id);
    return r && structuredClone(r);
  }

  async putConversation(record: ConversationRecord): Promise<void> {
    this.conversations.set(record.id, structuredClone(record));
  }

  async listInactiveConversations(before: string, limit: number): Promise<string[]> {
    const cutoff = Date.parse(before);
    return [...this.conversations.values()].filter((r) => Date.parse(r.lastActiveAt) < cutoff).slice(0, limit).map((r) => r.id);
  }

  async deleteConversation(id: string): Promise<void> {
    this.conversations.delete(id);
  }

  async track(rows: TrackedRequest[]): Promise<void> {
    for (const row of rows) {
      if (!this.tracked.has(row.ticket)) this.tracked.set(row.ticket, { ...row, open: !FINAL_STATUSES.includes(row.notifiedStatus) });
    }
  }

  async listOpen(): Promise<TrackedRequest[]> {
    return [...this.tracked.values()].filter((r) => r.open).map(strip);
  }

  async getOpen(ticket: string): Promise<TrackedRequest | undefined> {
    const row = this.tracked.get(ticket);
    return row?.open ? strip(row) : undefined;
  }

  /** A ticket that is not open (unknown, or its final status was already delivered) is left as it is. */
  async markNotified(ticket: string, status: RequestStatus): Promise<void> {
    const row = this.tracked.get(ticket);
    if (!row?.open) return;
    row.notifiedStatus = status;
    row.open = !FINAL_STATUSES.includes(status);
  }

  async listByConversation(conversationId: string): Promise<TrackedRequest[]> {
    return [...this.tracked.values()]
      .filter((r) => r.conversationId === conversationId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map(strip);
  }

  async getVerification(msisdn: string): Promise<VerificationRecord | undefined> {
    const r = this.verification.get(msisdn);
    return r && structuredClone(r);
  }

  async putVerification(record: VerificationRecord): Promise<void> {
    this.verification.set(record.msisdn, structuredClone(record));
  }

  async recordHandoffRequest(request: HandoffRequest): Promise<void> {
    this.handoffRequests.push({ ...request });
  }

  async listHandoffRequests(): Promise<HandoffRequest[]> {
    return this.handoffRequests.map((r) => ({ ...r }));
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}

function strip(row: TrackedRequest & { open: boolean }): TrackedRequest {
  const { open: _open, ...rest } = row;
  return { ...rest };
}
