import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { FINAL_STATUSES, type RequestStatus } from '../domain/types.js';
import { AppError } from '../errors.js';
import { acquireLock, releaseLock } from './json-file-db.js';
import { JsonLinesFile } from './json-lines-file.js';
import { KeyedLog, type KeyedLogOptions } from './keyed-log.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import type {
  BotStore, ConversationRecord, HandoffRequest, TrackedRequest, VerificationRecord,
} from './stores.js';

interface TrackedRow extends TrackedRequest { open: boolean }

/** The single-file layout of earlier versions (DATA_DIR/bot.json), migrated on first open. */
interface LegacyData {
  conversations?: Record<string, ConversationRecord>;
  tracked?: Record<string, TrackedRow>;
  verification?: Record<string, VerificationRecord>;
  handoffRequests?: HandoffRequest[];
}

export interface LowdbBotStoreOptions {
  /** Log segment size and value cache of the conversation log (tests use tiny segments). */
  conversations?: KeyedLogOptions;
}

/**
 * The bot's own state under DATA_DIR/bot/, laid out so that the cost of a write does not grow
 * with the number of conversations stored:
 *
 *   conversations/   KeyedLog: dialog snapshot per conversation id (the hot, growing data)
 *   verification/    KeyedLog: verification state per number
 *   tickets/         KeyedLog: tracked requests per conversation id (open and closed)
 *   open/            KeyedLog held in memory: tracked requests still awaiting a final status, by
 *                    ticket; rows leave it once their final status was delivered
 *   handoff-requests.jsonl  append-only
 *
 * Every write resolves after it reached the file, so a reply is only sent for a state that
 * survives a crash of the process. What the bot promised the user (tracked requests: "I will tell
 * you when it is done"; handoff requests) is also fdatasync'd, so it survives a power loss; dialog
 * snapshots and verification counters are not (losing the last turn of a dialog to a power loss
 * is harmless, and an fsync on every turn costs ~5 ms on this kind of disk).
 *
 * One process per DATA_DIR: each file and folder carries a `.lock`. A `bot.json` of the earlier
 * single-file layout is imported on first open and renamed to `bot.json.migrated`.
 */
export class LowdbBotStore implements BotStore {
  /** Read-modify-write of a conversation's ticket list, one at a time per conversation. */
  private readonly mutex = new KeyedMutex();
  /**
   * The open rows as objects, mirroring the `open` log: listOpen() is called once per status
   * delivery and once per open row in every notifier sweep, so it must cost a copy, not a parse.
   */
  private readonly open = new Map<string, TrackedRequest>();

  private constructor(
    private readonly conversations: KeyedLog<ConversationRecord>,
    private readonly verification: KeyedLog<VerificationRecord>,
    private readonly tickets: KeyedLog<TrackedRow[]>,
    private readonly openRows: KeyedLog<TrackedRequest>,
    private readonly handoff: JsonLinesFile<HandoffRequest>,
  ) {}

  /**
   * Opens (or creates) the store in `dataDir`. Throws AppError 'store.unwritable' (locked by
   * another live process, cannot create) or 'store.unreadable' (a damaged file, left untouched).
   */
  static async open(dataDir: string, options: LowdbBotStoreOptions = {}): Promise<LowdbBotStore> {
    const dir = join(dataDir, 'bot');
    const opened: { close(): Promise<void> }[] = [];
    const track = <T extends { close(): Promise<void> }>(part: T): T => { opened.push(part); return part; };
    try {
      const store = new LowdbBotStore(
        track(await KeyedLog.open<ConversationRecord>(join(dir, 'conversations'), options.conversations)),
        track(await KeyedLog.open<VerificationRecord>(join(dir, 'verification'), { segmentBytes: 4 * 1024 * 1024 })),
        track(await KeyedLog.open<TrackedRow[]>(join(dir, 'tickets'), { segmentBytes: 4 * 1024 * 1024, sync: true })),
        track(await KeyedLog.open<TrackedRequest>(join(dir, 'open'), { segmentBytes: 4 * 1024 * 1024, retainValues: true, sync: true })),
        track(await JsonLinesFile.open<HandoffRequest>(join(dir, 'handoff-requests.jsonl'), { sync: true })),
      );
      for (const row of await store.openRows.values()) store.open.set(row.ticket, row);
      await store.migrateLegacy(join(dataDir, 'bot.json'));
      return store;
    } catch (err) {
      for (const part of opened.reverse()) await part.close().catch(() => undefined);
      throw err;
    }
  }

  async getConversation(id: string): Promise<ConversationRecord | undefined> {
    return this.conversations.get(id);
  }

  async putConversation(record: ConversationRecord): Promise<void> {
    await this.conversations.put(record.id, record);
  }

  async listInactiveConversations(before: string, limit: number): Promise<string[]> {
    const cutoff = Date.parse(before);
    const out: string[] = [];
    let read = 0;
    for (const id of this.conversations.keys()) {
      if (out.length >= limit) break;
      const record = await this.conversations.get(id);
      if (record && Date.parse(record.lastActiveAt) < cutoff) out.push(id);
      // A long walk leaves the event loop to the turns every few hundred records.
      if (++read % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  }

  async deleteConversation(id: string): Promise<void> {
    await this.conversations.delete(id);
  }

  async track(rows: TrackedRequest[]): Promise<void> {
    const byConversation = new Map<string, TrackedRequest[]>();
    for (const row of rows) byConversation.set(row.conversationId, [...(byConversation.get(row.conversationId) ?? []), row]);
    await Promise.all([...byConversation].map(([conversationId, candidates]) => this.mutex.run(conversationId, async () => {
      const list = (await this.tickets.get(conversationId)) ?? [];
      let listChanged = false;
      const opening: TrackedRequest[] = [];
      for (const row of candidates) {
        let stored = list.find((r) => r.ticket === row.ticket);
        if (!stored && !this.open.has(row.ticket)) {
          stored = { ...row, open: !FINAL_STATUSES.includes(row.notifiedStatus) };
          list.push(stored);
          listChanged = true;
        }
        // The list row says whether the final status was delivered; the open index follows it, which
        // also repairs an index write lost to a crash when the filing turn is replayed.
        if (stored?.open && !this.open.has(row.ticket)) opening.push(strip(stored));
      }
      await Promise.all([
        listChanged ? this.tickets.put(conversationId, list) : undefined,
        ...opening.map((row) => this.putOpen(row)),
      ]);
    })));
  }

  async listOpen(): Promise<TrackedRequest[]> {
    return [...this.open.values()].map((r) => ({ ...r }));
  }

  async getOpen(ticket: string): Promise<TrackedRequest | undefined> {
    const row = this.open.get(ticket);
    return row && { ...row };
  }

  /** A ticket that is not open (unknown, or its final status was already delivered) is left as it is. */
  async markNotified(ticket: string, status: RequestStatus): Promise<void> {
    const row = this.open.get(ticket);
    if (!row) return;
    await this.mutex.run(row.conversationId, async () => {
      const list = (await this.tickets.get(row.conversationId)) ?? [];
      const stored = list.find((r) => r.ticket === ticket);
      const open = !FINAL_STATUSES.includes(status);
      if (stored) {
        stored.notifiedStatus = status;
        stored.open = open;
        await this.tickets.put(row.conversationId, list);
      }
      // Closed last: should the process die in between, the status is delivered again, not lost.
      if (!this.open.has(ticket)) return;
      if (open) await this.putOpen({ ...row, notifiedStatus: status });
      else await this.deleteOpen(ticket);
    });
  }

  async listByConversation(conversationId: string): Promise<TrackedRequest[]> {
    const list = (await this.tickets.get(conversationId)) ?? [];
    return list.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(strip);
  }

  async getVerification(msisdn: string): Promise<VerificationRecord | undefined> {
    return this.verification.get(msisdn);
  }

  async putVerification(record: VerificationRecord): Promise<void> {
    await this.verification.put(record.msisdn, record);
  }

  async recordHandoffRequest(request: HandoffRequest): Promise<void> {
    await this.handoff.append({ ...request });
  }

  async listHandoffRequests(): Promise<HandoffRequest[]> {
    return this.handoff.readAll();
  }

  /** Waits for pending writes and releases every file. Idempotent. */
  async close(): Promise<void> {
    await Promise.all([
      this.conversations.close(), this.verification.close(), this.tickets.close(), this.openRows.close(), this.handoff.close(),
    ]);
  }

  /** Changes the mirror at once (as the log's own reads do) and undoes that should the write fail. */
  private async putOpen(row: TrackedRequest): Promise<void> {
    const before = this.open.get(row.ticket);
    this.open.set(row.ticket, { ...row });
    try {
      await this.openRows.put(row.ticket, row);
    } catch (err) {
      if (before) this.open.set(row.ticket, before);
      else this.open.delete(row.ticket);
      throw err;
    }
  }

  private async deleteOpen(ticket: string): Promise<void> {
    const before = this.open.get(ticket);
    this.open.delete(ticket);
    try {
      await this.openRows.delete(ticket);
    } catch (err) {
      if (before) this.open.set(ticket, before);
      throw err;
    }
  }

  /** Imports DATA_DIR/bot.json (the earlier single-file layout) once, then renames it. */
  private async migrateLegacy(file: string): Promise<void> {
    if (!existsSync(file)) return;
    const lockFile = `${file}.lock`;
    acquireLock(lockFile, file);
    try {
      let legacy: LegacyData;
      try {
        legacy = JSON.parse(readFileSync(file, 'utf8')) as LegacyData;
      } catch (err) {
        throw new AppError('store.unreadable', { cause: err, message: `data file ${file} is not valid JSON; fix or move it away (it was left untouched)` });
      }
      // Importing again after a crash half-way is harmless: nothing was served from the new files yet.
      await Promise.all(Object.values(legacy.conversations ?? {}).map((r) => this.conversations.put(r.id, r)));
      await Promise.all(Object.values(legacy.verification ?? {}).map((r) => this.verification.put(r.msisdn, r)));
      const byConversation = new Map<string, TrackedRow[]>();
      for (const row of Object.values(legacy.tracked ?? {})) {
        byConversation.set(row.conversationId, [...(byConversation.get(row.conversationId) ?? []), { ...row }]);
      }
      await Promise.all([...byConversation].map(([id, list]) => this.tickets.put(id, list)));
      await Promise.all(Object.values(legacy.tracked ?? {}).filter((r) => r.open).map((r) => this.putOpen(strip(r))));
      const known = await this.handoff.readAll();
      if (known.length === 0) for (const r of legacy.handoffRequests ?? []) await this.handoff.append(r);
      renameSync(file, `${file}.migrated`);
    } finally {
      releaseLock(lockFile);
    }
  }
}

function strip(row: TrackedRow | TrackedRequest): TrackedRequest {
  const { open: _open, ...rest } = row as TrackedRow;
  return { ...rest };
}
