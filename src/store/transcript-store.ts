import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { appendFile, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AppError } from '../errors.js';
import { maskText } from '../privacy/mask.js';
import { BatchedAppender } from './batched-append.js';

export interface TranscriptEntry {
  from: 'user' | 'bot' | 'agent';
  /** Already masked: phone numbers, ID digits and codes never reach the transcript in clear. */
  text: string;
  /** ISO timestamp. */
  at: string;
  agentId?: string;
  /** Dialog state after the message, when known. */
  state?: string;
}

/** Every conversation's transcript, masked. Appends are durable when they resolve. */
export interface TranscriptStore {
  append(conversationId: string, entries: TranscriptEntry | TranscriptEntry[]): Promise<void>;
  /** Entries in order, oldest first. */
  read(conversationId: string): Promise<TranscriptEntry[]>;
  /** Removes a conversation's transcript for good (data deletion on request). Resolves once durable. */
  deleteConversation(conversationId: string): Promise<number>;
  close(): Promise<void>;
}

const SHARDS = 32;
/** Conversations whose shard file is remembered. */
const SHARD_FILES_KEPT = 4096;

/**
 * Append-only JSON-lines files under DATA_DIR/transcripts, sharded by conversation: an append
 * costs the same whatever the number of conversations (unlike rewriting a lowdb file), appends
 * arriving together share one write and one fdatasync, and reading one transcript (agents only)
 * scans one shard.
 */
export class FileTranscriptStore implements TranscriptStore {
  private readonly dir: string;
  /** One group-committing appender per shard file. */
  private readonly shards = new Map<string, BatchedAppender<string>>();
  /** The shard file of recent conversations, oldest first. */
  private readonly shardFiles = new Map<string, string>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'transcripts');
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new AppError('store.unwritable', { cause: err, message: `cannot create ${this.dir}` });
    }
  }

  private shardOf(conversationId: string): BatchedAppender<string> {
    // A conversation has several turns in a row: its shard file is remembered rather than hashed each time.
    const file = this.shardFiles.get(conversationId);
    if (file !== undefined) return this.shardAt(file);
    const shard = this.shardFor(createHash('sha1').update(conversationId).digest().readUInt16BE(0) % SHARDS);
    if (this.shardFiles.size >= SHARD_FILES_KEPT) this.shardFiles.delete(this.shardFiles.keys().next().value!);
    this.shardFiles.set(conversationId, shard.file);
    return shard;
  }

  private shardFor(n: number): BatchedAppender<string> {
    return this.shardAt(join(this.dir, `${String(n).padStart(2, '0')}.jsonl`));
  }

  private shardAt(file: string): BatchedAppender<string> {
    let shard = this.shards.get(file);
    if (!shard) {
      // Like dialog snapshots, transcripts reach the file before the reply but are not fdatasync'd:
      // a power loss may cost their last lines, never a filed request (outbox, tickets and audit are synced).
      shard = new BatchedAppender<string>(file, (lines) => lines.join(''), undefined, false);
      this.shards.set(file, shard);
    }
    return shard;
  }

  /**
   * Opens every shard file before the first message: opened on demand, the first appends of a
   * bot restarted under load waited 0.1–0.6 s for the thread pool, behind other files' syncs.
   */
  async warm(): Promise<void> {
    await Promise.all(Array.from({ length: SHARDS }, (_, n) => this.shardFor(n).open()));
  }

  append(conversationId: string, entries: TranscriptEntry | TranscriptEntry[]): Promise<void> {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return Promise.resolve();
    const lines = list.map((e) => JSON.stringify({ c: conversationId, ...e, text: maskText(e.text) })).join('\n') + '\n';
    return this.shardOf(conversationId).append(lines);
  }

  async read(conversationId: string): Promise<TranscriptEntry[]> {
    const shard = this.shardOf(conversationId);
    await shard.flush();
    const out: TranscriptEntry[] = [];
    await shard.exclusive(async () => {
      try {
        await appendFile(shard.file, '');
        const rl = createInterface({ input: createReadStream(shard.file, 'utf8'), crlfDelay: Infinity });
        for await (const line of rl) {
          if (!line) continue;
          try {
            const { c, ...entry } = JSON.parse(line) as TranscriptEntry & { c: string };
            if (c === conversationId) out.push(entry);
          } catch {
            // A torn last line from a crash mid-append: skip it, the rest is intact.
          }
        }
      } catch (err) {
        throw new AppError('store.unreadable', { cause: err, message: `cannot read ${shard.file}` });
      }
    });
    return out;
  }

  async deleteConversation(conversationId: string): Promise<number> {
    const shard = this.shardOf(conversationId);
    await shard.flush();
    const file = shard.file;
    return shard.exclusive(async () => {
      try {
        await appendFile(file, '');
        const text = await readFile(file, 'utf8');
        const lines = text.split('\n').filter((l) => l.length > 0);
        const kept = lines.filter((l) => {
          try {
            return (JSON.parse(l) as { c: string }).c !== conversationId;
          } catch {
            return true;
          }
        });
        const tmp = `${file}.tmp`;
        const handle = await open(tmp, 'w');
        try {
          await handle.writeFile(kept.map((l) => `${l}\n`).join(''), 'utf8');
          await handle.datasync();
        } finally {
          await handle.close();
        }
        await rename(tmp, file);
        return lines.length - kept.length;
      } catch (err) {
        throw new AppError('store.unwritable', { cause: err, message: `cannot rewrite ${file}` });
      }
    });
  }

  async close(): Promise<void> {
    for (const shard of this.shards.values()) await shard.close();
  }
}
