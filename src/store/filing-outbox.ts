import { join } from 'node:path';
import { JsonFileDb } from './json-file-db.js';

/** A confirmed filing, written before the back end is called and removed once it went through. */
export interface PendingFiling {
  /** conversationId:filingSeq — the prefix of every idempotency key of this filing. */
  id: string;
  conversationId: string;
  msisdn: string;
  subscriptionIds: string[];
  filingSeq: number;
  dispute: boolean;
  /** Per subscription: the ISO time before which the operator must not act (closing a number). */
  notBefore: Record<string, string>;
  /** ISO timestamps. */
  createdAt: string;
  nextAttemptAt: string;
  attempts: number;
}

/**
 * The filing outbox: confirmed requests not yet accepted by the back end. put() resolves once
 * durable (fdatasync'd; inside a turn that carries TurnSyncs, see store/append-file.ts, once in the
 * file, and the reply thread syncs it before the turn's reply).
 */
export interface FilingOutbox {
  put(row: PendingFiling): Promise<void>;
  /**
   * put() in two steps: `written` resolves once the row is in the file (it survives a crash of
   * the process), `durable` once it is fdatasync'd, as put() does.
   */
  stage(row: PendingFiling): { written: Promise<void>; durable: Promise<void> };
  remove(id: string): Promise<void>;
  get(id: string): Promise<PendingFiling | undefined>;
  list(): Promise<PendingFiling[]>;
  close(): Promise<void>;
}

/** `filing-outbox.json` under DATA_DIR: small, since rows live only until the back end accepted them. */
export class LowdbFilingOutbox implements FilingOutbox {
  private constructor(private readonly db: JsonFileDb<{ pending: Record<string, PendingFiling> }>) {}

  static async open(dataDir: string): Promise<LowdbFilingOutbox> {
    return new LowdbFilingOutbox(await JsonFileDb.open(join(dataDir, 'filing-outbox.json'), { pending: {} as Record<string, PendingFiling> }));
  }

  async put(row: PendingFiling): Promise<void> {
    await this.db.update((d) => { d.pending[row.id] = structuredClone(row); });
  }

  stage(row: PendingFiling): { written: Promise<void>; durable: Promise<void> } {
    return this.db.stage((d) => { d.pending[row.id] = structuredClone(row); });
  }

  /**
   * Written before it resolves but not fdatasync'd: should a power loss undo a removal, the order is
   * filed again under the same idempotency keys, which the back end answers with the same requests.
   */
  async remove(id: string): Promise<void> {
    await this.db.update((d) => { delete d.pending[id]; }, { sync: false });
  }

  async get(id: string): Promise<PendingFiling | undefined> {
    const row = this.db.data.pending[id];
    return row ? structuredClone(row) : undefined;
  }

  async list(): Promise<PendingFiling[]> {
    return Object.values(this.db.data.pending).map((r) => structuredClone(r));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
