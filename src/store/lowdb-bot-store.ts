import { join } from 'node:path';
import { FINAL_STATUSES, type RequestStatus } from '../domain/types.js';
import { JsonFileDb } from './json-file-db.js';
import type {
  BotStore, ConversationRecord, HandoffRequest, TrackedRequest, VerificationRecord,
} from './stores.js';

interface TrackedRow extends TrackedRequest { open: boolean }

interface BotData {
  conversations: Record<string, ConversationRecord>;
  tracked: Record<string, TrackedRow>;
  verification: Record<string, VerificationRecord>;
  handoffRequests: HandoffRequest[];
}

const EMPTY: BotData = { conversations: {}, tracked: {}, verification: {}, handoffRequests: [] };

/** The bot's own state in one lowdb file (`bot.json` under DATA_DIR). */
export class LowdbBotStore implements BotStore {
  private constructor(private readonly db: JsonFileDb<BotData>) {}

  static async open(dataDir: string): Promise<LowdbBotStore> {
    return new LowdbBotStore(await JsonFileDb.open<BotData>(join(dataDir, 'bot.json'), EMPTY));
  }

  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    const r = this.db.data.conversations[id];
    return r ? structuredClone(r) : undefined;
  }

  async putConversation(record: ConversationRecord): Promise<void> {
    await this.db.update((d) => { d.conversations[record.id] = structuredClone(record); });
  }

  async track(rows: TrackedRequest[]): Promise<void> {
    await this.db.update((d) => {
      for (const row of rows) {
        if (!d.tracked[row.ticket]) d.tracked[row.ticket] = { ...row, open: !FINAL_STATUSES.includes(row.notifiedStatus) };
      }
    });
  }

  async listOpen(): Promise<TrackedRequest[]> {
    return Object.values(this.db.data.tracked).filter((r) => r.open).map(strip);
  }

  async markNotified(ticket: string, status: RequestStatus): Promise<void> {
    await this.db.update((d) => {
      const row = d.tracked[ticket];
      if (!row) return;
      row.notifiedStatus = status;
      row.open = !FINAL_STATUSES.includes(status);
    });
  }

  async listByConversation(conversationId: string): Promise<TrackedRequest[]> {
    return Object.values(this.db.data.tracked)
      .filter((r) => r.conversationId === conversationId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map(strip);
  }

  async getVerification(msisdn: string): Promise<VerificationRecord | undefined> {
    const r = this.db.data.verification[msisdn];
    return r ? structuredClone(r) : undefined;
  }

  async putVerification(record: VerificationRecord): Promise<void> {
    await this.db.update((d) => { d.verification[record.msisdn] = structuredClone(record); });
  }

  async recordHandoffRequest(request: HandoffRequest): Promise<void> {
    await this.db.update((d) => { d.handoffRequests.push({ ...request }); });
  }

  async listHandoffRequests(): Promise<HandoffRequest[]> {
    return this.db.data.handoffRequests.map((r) => ({ ...r }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function strip(row: TrackedRow): TrackedRequest {
  const { open: _open, ...rest } = row;
  return { ...rest };
}
