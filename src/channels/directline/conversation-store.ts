import { randomBytes } from 'node:crypto';
import { JsonFileDb } from '../../store/json-file-db.js';

/** An activity as Direct Line clients see it (JSON object with at least `type`). */
export type WireActivity = Record<string, unknown> & { type: string };

/** One stored activity and its position in the conversation (the watermark after it). */
export interface StoredActivity {
  seq: number;
  activity: WireActivity & { id: string; timestamp: string };
}

/** What is known about a stored conversation (a copy: changing it changes nothing). */
export interface ConversationInfo {
  id: string;
  /** The user bound to the conversation's tokens. */
  userId: string;
  locale?: string;
  /** User ids the bot was told joined (conversationUpdate sent). */
  members: string[];
  /** The newest watermark issued (0 when nothing was stored yet). */
  seq: number;
}

/**
 * Direct Line conversations and a bounded transcript of each, so that a client that reconnects
 * (even after a restart) receives what it missed. Implementations keep at most `maxActivities` per
 * conversation (oldest dropped) and at most `maxConversations` conversations (least recently active
 * dropped, and any idle longer than `retentionMs`).
 */
export interface DirectLineStore {
  /** A random 32-byte key made on first open and kept with the data: signs tokens and names the connector. */
  readonly signingKey: Buffer;
  /** Creates a conversation; resolves false (changing nothing) when it already exists. Idempotent. */
  create(conversation: { id: string; userId: string; locale?: string }): Promise<boolean>;
  get(id: string): ConversationInfo | undefined;
  /** Records that the bot was told `userId` joined; resolves false when it already knew. */
  addMember(id: string, userId: string): Promise<boolean>;
  /**
   * Stores an activity, giving it `id` ("{conversation}|{seq}") and a server `timestamp` (strictly
   * increasing within a conversation). Resolves undefined when the conversation does not exist.
   * Throws AppError 'store.unwritable' when the file cannot be written.
   */
  append(id: string, activity: WireActivity): Promise<StoredActivity | undefined>;
  /** Stored activities after `watermark` (at most `limit`, oldest first); undefined for an unknown conversation. */
  since(id: string, watermark: number, limit?: number): StoredActivity[] | undefined;
  /**
   * Drops the stored activities of a conversation (data deletion on request); the conversation
   * and its sequence stay, so the chat goes on and watermarks stay valid. Resolves how many were dropped.
   */
  forget(id: string): Promise<number>;
  close(): Promise<void>;
}

interface StoredConversation extends ConversationInfo {
  createdAt: number;
  lastActiveAt: number;
  lastTimestamp: number;
  activities: StoredActivity[];
}

interface Data {
  version: 1;
  signingKey: string;
  conversations: Record<string, StoredConversation>;
}

/** Bounds of the store; DEFAULT_LIMITS unless a test says otherwise. */
export interface StoreLimits {
  maxConversations: number;
  maxActivities: number;
  /** Idle conversations older than this are dropped, in ms. */
  retentionMs: number;
}

export const DEFAULT_LIMITS: StoreLimits = { maxConversations: 300, maxActivities: 100, retentionMs: 24 * 60 * 60_000 };

/** DirectLineStore on one lowdb file (`directline.json` in DATA_DIR). */
export class JsonDirectLineStore implements DirectLineStore {
  private constructor(
    private readonly db: JsonFileDb<Data>,
    readonly signingKey: Buffer,
    private readonly limits: StoreLimits,
    private readonly now: () => number,
  ) {}

  /** Opens or creates the file. Throws AppError 'store.unreadable' / 'store.unwritable' as JsonFileDb does. */
  static async open(file: string, options: Partial<StoreLimits> & { now?: () => number } = {}): Promise<JsonDirectLineStore> {
    const db = await JsonFileDb.open<Data>(file, { version: 1, signingKey: '', conversations: {} });
    if (!db.data.signingKey) await db.update((d) => { d.signingKey = randomBytes(32).toString('base64url'); });
    const { now = Date.now, ...limits } = options;
    const store = new JsonDirectLineStore(db, Buffer.from(db.data.signingKey, 'base64url'), { ...DEFAULT_LIMITS, ...limits }, now);
    await db.update((d) => store.evict(d, 0));
    return store;
  }

  async create(c: { id: string; userId: string; locale?: string }): Promise<boolean> {
    return this.db.update((d) => {
      if (d.conversations[c.id]) return false;
      this.evict(d, 1);
      const now = this.now();
      d.conversations[c.id] = {
        id: c.id, userId: c.userId, locale: c.locale, members: [], seq: 0,
        createdAt: now, lastActiveAt: now, lastTimestamp: 0, activities: [],
      };
      return true;
    });
  }

  get(id: string): ConversationInfo | undefined {
    const c = this.db.data.conversations[id];
    return c && { id: c.id, userId: c.userId, locale: c.locale, members: [...c.members], seq: c.seq };
  }

  async addMember(id: string, userId: string): Promise<boolean> {
    return this.db.update((d) => {
      const c = d.conversations[id];
      if (!c || c.members.includes(userId)) return false;
      c.members.push(userId);
      return true;
    });
  }

  async append(id: string, activity: WireActivity): Promise<StoredActivity | undefined> {
    return this.db.update((d) => {
      const c = d.conversations[id];
      if (!c) return undefined;
      const now = this.now();
      c.seq += 1;
      c.lastActiveAt = now;
      c.lastTimestamp = Math.max(now, c.lastTimestamp + 1);
      const stored: StoredActivity = {
        seq: c.seq,
        activity: { ...activity, id: `${id}|${String(c.seq).padStart(7, '0')}`, timestamp: new Date(c.lastTimestamp).toISOString() },
      };
      c.activities.push(stored);
      if (c.activities.length > this.limits.maxActivities) c.activities.splice(0, c.activities.length - this.limits.maxActivities);
      return structuredClone(stored);
    });
  }

  since(id: string, watermark: number, limit = Number.POSITIVE_INFINITY): StoredActivity[] | undefined {
    const c = this.db.data.conversations[id];
    if (!c) return undefined;
    return structuredClone(c.activities.filter((a) => a.seq > watermark).slice(0, limit));
  }

  async forget(id: string): Promise<number> {
    return this.db.update((d) => {
      const c = d.conversations[id];
      if (!c) return 0;
      const dropped = c.activities.length;
      c.activities = [];
      return dropped;
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** Drops idle conversations, then the least recently active ones until `room` more fit. */
  private evict(d: Data, room: number): void {
    const cutoff = this.now() - this.limits.retentionMs;
    for (const [id, c] of Object.entries(d.conversations)) if (c.lastActiveAt < cutoff) delete d.conversations[id];
    const ids = Object.keys(d.conversations);
    const excess = ids.length + room - this.limits.maxConversations;
    if (excess <= 0) return;
    ids.sort((a, b) => d.conversations[a]!.lastActiveAt - d.conversations[b]!.lastActiveAt);
    for (const id of ids.slice(0, excess)) delete d.conversations[id];
  }
}
