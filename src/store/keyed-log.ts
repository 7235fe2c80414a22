import { mkdirSync, readdirSync } from 'node:fs';
import { open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { appendSync, currentTurnSyncs, type TurnSyncs } from './append-file.js';
import { SyncOrder } from './sync-order.js';
import { acquireLock, releaseLock } from './json-file-db.js';

export interface KeyedLogOptions {
  /** The active segment is closed and a new one started once it reaches this size, in bytes. Default 16 MiB. */
  segmentBytes?: number;
  /** Committed values kept in memory (least recently used dropped first), in entries. Default 2048. */
  cacheEntries?: number;
  /** A closed segment whose live bytes fall below this share of its size is rewritten. Default 0.5. */
  compactBelow?: number;
  /**
   * Keep every value in memory, loaded on open: for small maps that are listed whole (open
   * requests). Default false: values are read back from the file on demand.
   */
  retainValues?: boolean;
  /**
   * fdatasync the appends, so that a write that resolved also survives a power loss, not only a
   * crash of the process (inside a turn that carries TurnSyncs, see append-file.ts, the write
   * resolves once in the file and the reply thread syncs it before the turn's reply). Default false.
   */
  sync?: boolean;
  /** Called when background compaction fails (it is tried again after the next rotation). */
  onError?: (err: unknown) => void;
}

/** Where a line is: segment number, byte offset and length of the whole line. */
interface Location {
  seg: number;
  off: number;
  len: number;
}

interface Segment {
  readonly n: number;
  readonly file: string;
  /** Bytes in the file. */
  size: number;
  /** Bytes of the lines that are still the newest of their key. */
  live: number;
  reader: Promise<FileHandle> | undefined;
  readers: number;
  retired: boolean;
}

interface Entry {
  key: string;
  /** The whole line: key, tab, value JSON (nothing for a deletion), newline. */
  line: Buffer;
  /** The value JSON; null for a deletion; undefined for a compaction move. */
  json: string | null | undefined;
  /** For compaction moves: the line being moved; the move is dropped when the key moved on. */
  from: Location | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** A put of a turn whose reply sender syncs its files (append-file.ts): resolved once written. */
  turn?: TurnSyncs;
}

const SEGMENT_NAME = /^(\d{8})\.log$/;
const NEWLINE = 0x0a;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MOVE_CHUNK = 512;

/**
 * A durable key → JSON value map on append-only files, for records that are many and often
 * rewritten (dialog snapshots): a write appends one line, so its cost does not depend on how
 * many records are stored, unlike rewriting a whole lowdb file.
 *
 * - Lines are `<key as JSON>\t<value as JSON>\n` in numbered segment files under `dir`; the last
 *   line of a key wins; a line without a value deletes the key (a tombstone, kept while an older
 *   segment that could hold the key is left).
 * - Only the index (key → segment, offset, length) lives in memory, plus a cache of recently used
 *   values (or every value, with retainValues); other values are read from the file on demand.
 * - put()/delete() resolve after the line was written to the file (write(2) returned: it survives
 *   a crash of this process; like lowdb, no fsync unless `sync`, then also a power loss). Calls
 *   that arrive while a write is in flight are written together in one append (group commit), in
 *   call order, with one fdatasync per append.
 * - A segment that reached segmentBytes is closed; closed segments made mostly of superseded lines
 *   are compacted in the background by re-appending their live lines, then deleted.
 * - Opening replays the segments to rebuild the index; a torn last line (a crash mid-write; its
 *   call never resolved) is cut off.
 * - One process per folder: a `.lock` file, as JsonFileDb uses.
 * Errors: AppError 'store.unreadable' (a damaged line), 'store.unwritable' (I/O, closed, locked).
 */
export class KeyedLog<V> {
  private readonly index = new Map<string, Location>();
  /** Deletions still needed in the files. */
  private readonly tombstones = new Map<string, Location>();
  private readonly cache = new Map<string, string>();
  /** The newest not yet written put or delete of each key: reads see their own writes at once. */
  private readonly pending = new Map<string, Entry>();
  private readonly segments = new Map<number, Segment>();
  private active!: Segment;
  private appender: FileHandle | undefined;
  private queue: Entry[] = [];
  private flushing: Promise<void> | undefined;
  private readonly syncs = new SyncOrder();
  private compacting: Promise<void> | undefined;
  private broken: AppError | undefined;
  private closed = false;
  private readonly segmentBytes: number;
  private readonly cacheEntries: number;
  private readonly compactBelow: number;
  private readonly retainValues: boolean;
  private readonly sync: boolean;
  private readonly onError: (err: unknown) => void;

  private constructor(readonly dir: string, private readonly lockFile: string, options: KeyedLogOptions) {
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
    this.retainValues = options.retainValues ?? false;
    this.sync = options.sync ?? false;
    this.cacheEntries = this.retainValues ? Number.POSITIVE_INFINITY : options.cacheEntries ?? 2048;
    this.compactBelow = options.compactBelow ?? 0.5;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Opens (or creates) the log in `dir` and rebuilds its index.
   * Throws AppError 'store.unwritable' (locked by another live process, cannot create) or
   * 'store.unreadable' (a damaged line before the end; the files are left untouched).
   */
  static async open<V>(dir: string, options: KeyedLogOptions = {}): Promise<KeyedLog<V>> {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new AppError('store.unwritable', { cause: err, message: `cannot create the folder ${dir}` });
    }
    const lockFile = join(dir, '.lock');
    acquireLock(lockFile, dir);
    const log = new KeyedLog<V>(dir, lockFile, options);
    try {
      await log.replay();
    } catch (err) {
      await log.appender?.close().catch(() => undefined);
      releaseLock(lockFile);
      if (err instanceof AppError) throw err;
      throw new AppError('store.unwritable', { cause: err, message: `cannot open the log in ${dir}` });
    }
    log.scheduleCompaction();
    return log;
  }

  /** Number of keys. */
  get size(): number {
    let n = this.index.size;
    for (const [key, entry] of this.pending) {
      if (entry.json === null && this.index.has(key)) n--;
      else if (entry.json !== null && !this.index.has(key)) n++;
    }
    return n;
  }

  /** Bytes in the segment files, superseded lines included. */
  get bytes(): number {
    let total = 0;
    for (const s of this.segments.values()) total += s.size;
    return total;
  }

  has(key: string): boolean {
    const waiting = this.pending.get(key);
    return waiting ? waiting.json !== null : this.index.has(key);
  }

  /** Every key, in no particular order. */
  keys(): string[] {
    const all = new Set(this.index.keys());
    for (const [key, entry] of this.pending) {
      if (entry.json === null) all.delete(key);
      else all.add(key);
    }
    return [...all];
  }

  /** The newest value of `key` (a fresh copy), or undefined. Throws 'store.unreadable' for a damaged line. */
  async get(key: string): Promise<V | undefined> {
    const waiting = this.pending.get(key);
    if (waiting) return waiting.json === null ? undefined : this.parse(waiting.json!);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      if (!this.retainValues) {
        this.cache.delete(key);
        this.cache.set(key, cached);
      }
      return this.parse(cached);
    }
    const at = this.index.get(key);
    if (!at) return undefined;
    const json = await this.readValue(key, at);
    // Cache only what is still the newest value: a put may have committed while this read ran.
    if (this.index.get(key) === at && !this.pending.has(key)) this.remember(key, json);
    return this.parse(json);
  }

  /** Every value (fresh copies), in no particular order. */
  async values(): Promise<V[]> {
    const out: V[] = [];
    for (const key of this.keys()) {
      const value = await this.get(key);
      if (value !== undefined) out.push(value);
    }
    return out;
  }

  /**
   * Stores `value` under `key`; resolves once it is written. Writes happen in call order.
   * Throws AppError 'store.unwritable' (I/O failure, closed log, value not serialisable).
   */
  put(key: string, value: V): Promise<void> {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      return Promise.reject(new AppError('store.unwritable', { cause: err, message: 'the value cannot be stored as JSON' }));
    }
    if (json === undefined) return Promise.reject(new AppError('store.unwritable', { message: 'the value cannot be stored as JSON' }));
    return this.write(key, `${JSON.stringify(key)}\t${json}\n`, json);
  }

  /** Removes `key` (an unknown key is fine); resolves once written. Throws as put() does. */
  delete(key: string): Promise<void> {
    if (!this.has(key) && !this.closed && !this.broken) return Promise.resolve();
    return this.write(key, `${JSON.stringify(key)}\t\n`, null);
  }

  /** Compacts every closed segment that holds superseded lines now (normally done in the background). */
  async compact(): Promise<void> {
    while (this.compacting) await this.compacting;
    this.compacting = this.runCompaction(1).finally(() => { this.compacting = undefined; });
    await this.compacting;
  }

  /** Waits for pending writes and compaction, closes the files and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.compacting || this.flushing) await (this.compacting ?? this.flushing);
    await this.syncs.idle();
    await this.appender?.close().catch(() => undefined);
    for (const s of this.segments.values()) {
      s.retired = true;
      await this.closeReader(s);
    }
    releaseLock(this.lockFile);
  }

  private write(key: string, line: string, json: string | null): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed || this.broken) {
        reject(this.broken ?? new AppError('store.unwritable', { message: `the log in ${this.dir} is closed` }));
        return;
      }
      const entry: Entry = { key, line: Buffer.from(line, 'utf8'), json, from: undefined, resolve, reject };
      const turn = this.sync ? currentTurnSyncs() : undefined;
      if (turn) entry.turn = turn;
      this.pending.set(key, entry);
      this.enqueue(entry);
    });
  }

  private parse(json: string): V {
    try {
      return JSON.parse(json) as V;
    } catch (err) {
      throw new AppError('store.unreadable', { cause: err, message: `a stored value in ${this.dir} is damaged` });
    }
  }

  private remember(key: string, json: string): void {
    this.cache.delete(key);
    this.cache.set(key, json);
    if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
  }

  private enqueue(entry: Entry): void {
    this.queue.push(entry);
    // Start on a microtask so that writes of the same tick share the first append too.
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const written: { entry: Entry; off: number }[] = [];
      const parts: Buffer[] = [];
      let size = 0;
      for (const entry of batch) {
        if (this.broken) {
          this.drop(entry, this.broken);
          continue;
        }
        // A compaction move is written only while the moved line is still the key's newest:
        // written after a newer line, it would win on the next replay.
        if (entry.from && (this.newestLine(entry.key) !== entry.from || this.pending.has(entry.key))) {
          entry.resolve();
          continue;
        }
        written.push({ entry, off: size });
        parts.push(entry.line);
        size += entry.line.length;
      }
      if (written.length === 0) continue;
      const segment = this.active;
      const base = segment.size;
      try {
        appendSync(this.appender!, parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
      } catch (err) {
        const failure = new AppError('store.unwritable', { cause: err, message: `cannot append to the log in ${this.dir}` });
        // Cut off whatever part of the batch reached the file, so the next append starts on a line boundary.
        try {
          await this.appender!.truncate(base);
        } catch {
          this.broken = failure;
        }
        for (const { entry } of written) this.drop(entry, failure);
        continue;
      }
      segment.size += size;
      for (const { entry, off } of written) {
        const deletion = entry.line[entry.line.length - 2] === TAB;
        this.place(entry.key, { seg: segment.n, off: base + off, len: entry.line.length }, deletion);
        if (this.pending.get(entry.key) === entry) {
          this.pending.delete(entry.key);
          if (typeof entry.json === 'string') this.remember(entry.key, entry.json);
        }
      }
      // A failed sync leaves the batch in the file but perhaps not on the disk: its writes fail and so
      // does every later write to this log (the disk needs looking at); what is in the file stays readable.
      this.syncs.settle(written.map((w) => w.entry), segment.file, this.appender!, this.sync, (err) => {
        const failure = new AppError('store.unwritable', { cause: err, message: `cannot sync the log in ${this.dir}` });
        this.broken ??= failure;
        return failure;
      });
      if (segment.size >= this.segmentBytes) {
        try {
          // The old segment's file stays open until its syncs are done.
          await this.syncs.idle();
          await this.rotate();
        } catch (err) {
          this.broken = new AppError('store.unwritable', { cause: err, message: `cannot start a new segment in ${this.dir}` });
        }
      }
    }
    this.flushing = undefined;
  }

  private drop(entry: Entry, err: unknown): void {
    if (this.pending.get(entry.key) === entry) this.pending.delete(entry.key);
    entry.reject(err);
  }

  /** The newest line of a key: a value or a deletion. */
  private newestLine(key: string): Location | undefined {
    return this.index.get(key) ?? this.tombstones.get(key);
  }

  /** Records that the newest line of `key` is now `at`; the line it supersedes stops being live. */
  private place(key: string, at: Location, deletion: boolean): void {
    const previous = this.newestLine(key);
    if (previous) this.segments.get(previous.seg)!.live -= previous.len;
    this.index.delete(key);
    this.tombstones.delete(key);
    if (deletion) {
      this.cache.delete(key);
      this.tombstones.set(key, at);
    } else {
      this.index.set(key, at);
    }
    this.segments.get(at.seg)!.live += at.len;
  }

  private segmentFile(n: number): string {
    return join(this.dir, `${String(n).padStart(8, '0')}.log`);
  }

  private async replay(): Promise<void> {
    const numbers = readdirSync(this.dir)
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const n of numbers) {
      const file = this.segmentFile(n);
      const buf = await readFile(file);
      const segment: Segment = { n, file, size: 0, live: 0, reader: undefined, readers: 0, retired: false };
      this.segments.set(n, segment);
      let pos = 0;
      while (pos < buf.length) {
        const end = buf.indexOf(NEWLINE, pos);
        if (end < 0) break;
        const tab = buf.indexOf(TAB, pos);
        let key: unknown;
        if (tab >= 0 && tab < end && buf[pos] === QUOTE && buf[tab - 1] === QUOTE && tab - pos >= 2 && !hasByte(buf, BACKSLASH, pos, tab)) {
          // The common case, a key without escapes: no JSON.parse needed (replay time is start-up time).
          key = buf.toString('utf8', pos + 1, tab - 1);
        } else {
          try {
            key = tab >= 0 && tab < end ? JSON.parse(buf.toString('utf8', pos, tab)) : undefined;
          } catch {
            key = undefined;
          }
        }
        if (typeof key !== 'string') {
          throw new AppError('store.unreadable', { message: `damaged line at byte ${pos} of ${file}; fix or move the folder away (it was left untouched)` });
        }
        const deletion = tab + 1 === end;
        this.place(key, { seg: n, off: pos, len: end + 1 - pos }, deletion);
        if (this.retainValues && !deletion) this.cache.set(key, buf.toString('utf8', tab + 1, end));
        pos = end + 1;
      }
      segment.size = pos;
      if (pos < buf.length) {
        // A torn last line: the call that wrote it never resolved, so nobody was told it was stored.
        const handle = await open(file, 'r+');
        try {
          await handle.truncate(pos);
        } finally {
          await handle.close();
        }
      }
    }
    const last = numbers.length > 0 ? this.segments.get(numbers[numbers.length - 1]!)! : undefined;
    if (last && last.size < this.segmentBytes) {
      this.active = last;
      this.appender = await open(last.file, 'a');
    } else {
      await this.startSegment((last?.n ?? 0) + 1);
    }
  }

  private async startSegment(n: number): Promise<void> {
    const file = this.segmentFile(n);
    const appender = await open(file, 'a');
    if (this.sync) await syncDir(this.dir);
    const segment: Segment = { n, file, size: (await stat(file)).size, live: 0, reader: undefined, readers: 0, retired: false };
    this.segments.set(n, segment);
    this.active = segment;
    this.appender = appender;
  }

  private async rotate(): Promise<void> {
    const old = this.appender;
    await this.startSegment(this.active.n + 1);
    await old?.close();
    this.scheduleCompaction();
  }

  private async readValue(key: string, at: Location): Promise<string> {
    const segment = this.segments.get(at.seg);
    if (!segment) throw new AppError('store.unreadable', { message: `the log in ${this.dir} lost a segment` });
    segment.readers++;
    try {
      segment.reader ??= open(segment.file, 'r');
      const handle = await segment.reader;
      const buf = Buffer.allocUnsafe(at.len);
      let got = 0;
      while (got < at.len) {
        const { bytesRead } = await handle.read(buf, got, at.len - got, at.off + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const tab = buf.indexOf(TAB);
      if (got < at.len || tab < 0 || buf[at.len - 1] !== NEWLINE || buf.toString('utf8', 0, tab) !== JSON.stringify(key)) {
        throw new AppError('store.unreadable', { message: `damaged line at byte ${at.off} of ${segment.file}` });
      }
      return buf.toString('utf8', tab + 1, at.len - 1);
    } finally {
      segment.readers--;
      if (segment.retired && segment.readers === 0) await this.closeReader(segment);
    }
  }

  private async closeReader(segment: Segment): Promise<void> {
    const reader = segment.reader;
    segment.reader = undefined;
    if (reader) await (await reader.catch(() => undefined))?.close().catch(() => undefined);
  }

  private scheduleCompaction(): void {
    if (this.compacting || this.closed) return;
    this.compacting = this.runCompaction(this.compactBelow)
      .catch((err: unknown) => this.onError(err))
      .finally(() => { this.compacting = undefined; });
  }

  /** Compacts closed segments whose live share is below `threshold`, most superseded first. */
  private async runCompaction(threshold: number): Promise<void> {
    const tried = new Set<number>();
    for (;;) {
      if (this.closed) return;
      const segment = [...this.segments.values()]
        .filter((s) => s !== this.active && !s.retired && !tried.has(s.n) && s.live < s.size * threshold)
        .sort((a, b) => a.live / Math.max(1, a.size) - b.live / Math.max(1, b.size))[0];
      if (!segment) return;
      tried.add(segment.n);
      await this.compactSegment(segment);
    }
  }

  private async compactSegment(segment: Segment): Promise<void> {
    const data = segment.live > 0 ? await readFile(segment.file) : Buffer.alloc(0);
    for (let round = 0; round < 5; round++) {
      const live: [string, Location][] = [];
      for (const [key, at] of this.index) if (at.seg === segment.n) live.push([key, at]);
      const oldest = Math.min(...this.segments.keys()) === segment.n;
      for (const [key, at] of this.tombstones) {
        if (at.seg !== segment.n) continue;
        if (oldest) {
          // No older segment is left that could bring the key back: the deletion has done its work.
          this.tombstones.delete(key);
          segment.live -= at.len;
        } else {
          live.push([key, at]);
        }
      }
      if (live.length === 0) break;
      for (let i = 0; i < live.length; i += MOVE_CHUNK) {
        // Closing stops compaction between chunks: the segment stays, nothing is lost.
        if (this.closed) return;
        await Promise.all(live.slice(i, i + MOVE_CHUNK).map(([key, at]) => new Promise<void>((resolve, reject) => {
          this.enqueue({ key, line: data.subarray(at.off, at.off + at.len), json: undefined, from: at, resolve, reject });
        })));
      }
    }
    for (const at of this.index.values()) if (at.seg === segment.n) return;
    for (const at of this.tombstones.values()) if (at.seg === segment.n) return;
    segment.retired = true;
    this.segments.delete(segment.n);
    await unlink(segment.file);
    if (segment.readers === 0) await this.closeReader(segment);
  }
}

/** Whether buf[from, to) holds `byte` (a plain loop: indexOf would scan on past `to`). */
function hasByte(buf: Buffer, byte: number, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] === byte) return true;
  return false;
}

/** Makes a new file's directory entry durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
