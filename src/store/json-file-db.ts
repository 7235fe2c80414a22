import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync, existsSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { AppError } from '../errors.js';
import { appendSync, currentTurnSyncs, type TurnSyncs } from './append-file.js';
import { SyncOrder } from './sync-order.js';

interface PendingUpdate<T> {
  fn: (data: T) => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  /** fdatasync the write that carries this update (default true). */
  sync: boolean;
  /** Told fn's result once the update's journal line is written, before its fdatasync. */
  written?: (value: unknown) => void;
  /** An update of a turn whose reply sender syncs its files (append-file.ts): resolved once written. */
  turn?: TurnSyncs;
}

/** A journal line: set (`v`) or delete (`d`) the value at a path of one or two keys. */
interface JournalEntry {
  p: [string] | [string, string];
  v?: unknown;
  d?: 1;
}

/** Options of JsonFileDb.open. */
export interface JsonFileDbOptions {
  /**
   * The journal is folded into the data file once it holds this many bytes, or the data file's
   * size if that is larger (so rewriting costs at most as many bytes as were appended). Default 1 MiB.
   */
  compactBytes?: number;
}

const DEFAULT_COMPACT_BYTES = 1 << 20;

/**
 * One lowdb JSON file, owned by one process, written as a snapshot plus an append-only journal.
 *
 * Writing the whole file on every change (what lowdb does) costs time in proportion to everything
 * the file holds: a store that grows with each conversation gets slower with each conversation.
 * Here an update appends only the top-level entries it changed (`data[key]`, or `data[key][id]`
 * for a collection) to `<file>.journal`, one JSON line each; once the journal is as large as the
 * data file, both are folded into a new data file (lowdb's atomic temp file + rename). Opening
 * replays the journal over the data file; a torn last line (a crash mid-append) is dropped.
 *
 * Changes are found by tracking, not by comparing: inside update() the function sees the data
 * through proxies that record which entries were set or deleted. Mutate only inside update();
 * `data` is the plain object, to read. Values are JSON (plain objects, arrays, primitives). The
 * predicates of find/filter/findIndex/some/every see plain members and must not change them.
 *
 * Updates are serialised and group-committed: updates that arrive while a write is in flight are
 * applied together, in call order, and appended with one write and one fdatasync. Each update
 * resolves only once its change is durable.
 *
 * A `.lock` file beside the data file keeps a second process from opening it (lowdb has no
 * cross-process locking: two writers lose updates).
 */
export class JsonFileDb<T extends object> {
  private readonly low: Low<T>;
  private readonly tracker: ChangeTracker;
  private readonly compactBytes: number;
  private pending: PendingUpdate<T>[] = [];
  private flushing: Promise<void> | undefined;
  /** Resolves written batches in order as their syncs complete. */
  private readonly syncs = new SyncOrder();
  private closed = false;

  private constructor(
    readonly file: string,
    low: Low<T>,
    private readonly lockFile: string,
    private readonly journal: FileHandle,
    private journalBytes: number,
    private snapshotBytes: number,
    options: JsonFileDbOptions,
  ) {
    this.low = low;
    this.tracker = new ChangeTracker(low.data as Record<string, unknown>);
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
  }

  /** The journal file of a data file. */
  static journalOf(file: string): string {
    return `${file}.journal`;
  }

  /**
   * Opens (or creates with `defaults`) a data file and replays its journal.
   * Throws AppError 'store.unreadable' when the file or a journal line before the last is not
   * valid JSON, and 'store.unwritable' when it is locked by another live process or cannot be created.
   */
  static async open<T extends object>(file: string, defaults: T, options: JsonFileDbOptions = {}): Promise<JsonFileDb<T>> {
    const lockFile = claimDataFile(file);
    let journal: FileHandle | undefined;
    try {
      let data: T;
      let snapshotBytes = 0;
      const existed = existsSync(file);
      if (existed) {
        const text = await readFile(file, 'utf8');
        snapshotBytes = Buffer.byteLength(text);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch (err) {
          throw new AppError('store.unreadable', { cause: err, message: `data file ${file} is not valid JSON; fix or move it away (it was left untouched)` });
        }
        // null, an array or a bare value would silently become the defaults and be overwritten on the next write.
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new AppError('store.unreadable', { message: `data file ${file} does not hold a JSON object; fix or move it away (it was left untouched)` });
        }
        data = { ...structuredClone(defaults), ...(parsed as T) };
      } else {
        data = structuredClone(defaults);
      }
      const journalFile = JsonFileDb.journalOf(file);
      const goodBytes = existsSync(journalFile) ? await replayJournal(journalFile, data as Record<string, unknown>) : 0;
      journal = await open(journalFile, 'a+');
      // Drop a torn tail so that the next append starts on a line of its own.
      if ((await journal.stat()).size !== goodBytes) await journal.truncate(goodBytes);
      // Compact JSON: pretty-printing doubles the time of every rewrite and ~1.5× the bytes.
      const low = new Low<T>(new DataFile<T>(file, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), data);
      const db = new JsonFileDb<T>(file, low, lockFile, journal, goodBytes, snapshotBytes, options);
      if (!existed) await db.compact();
      return db;
    } catch (err) {
      await journal?.close().catch(() => undefined);
      releaseLock(lockFile);
      if (err instanceof AppError) throw err;
      throw new AppError('store.unwritable', { cause: err, message: `cannot open data file ${file}` });
    }
  }

  /**
   * Reads a data file and its journal as the next open() would, without opening or locking it
   * (for tools and tests). Throws AppError 'store.unreadable'.
   */
  static async read<T extends object>(file: string): Promise<T> {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new AppError('store.unreadable', { cause: err, message: `cannot read data file ${file}` });
    }
    const journalFile = JsonFileDb.journalOf(file);
    if (existsSync(journalFile)) await replayJournal(journalFile, data);
    return data as T;
  }

  /** The current data. Read-only: change it only inside update(). */
  get data(): T {
    return this.low.data;
  }

  /**
   * Applies `fn` to the data and records what it changed; resolves with fn's result once the
   * write that includes it is durable. Calls are applied one at a time in call order. A throwing
   * `fn` rejects only its own call (what it changed before throwing stays changed). Throws
   * AppError 'store.unwritable' when the write fails or the file is closed.
   * With `sync: false` the update resolves once its journal line is written (it survives a crash
   * of the process, not necessarily a power loss), without waiting for an fdatasync, unless it
   * shares a write with an update that needs one. Inside a turn that carries TurnSyncs
   * (append-file.ts) an update also resolves once written, and the turn's reply thread syncs it.
   */
  update<R>(fn: (data: T) => R, options: { sync?: boolean } = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => this.enqueue({ fn, resolve: resolve as (value: unknown) => void, reject, sync: options.sync ?? true }));
  }

  /**
   * Like update(), in two steps: `written` resolves with fn's result once its journal line is in
   * the file (it survives a crash of the process), `durable` once that line is fdatasync'd (it
   * survives a power loss). Both reject as update() does. For a caller with other work that may
   * overlap the fdatasync but must not start before the write.
   */
  stage<R>(fn: (data: T) => R): { written: Promise<R>; durable: Promise<void> } {
    let onWritten!: (value: R) => void;
    let onFailed!: (reason: unknown) => void;
    const written = new Promise<R>((resolve, reject) => { onWritten = resolve; onFailed = reject; });
    const durable = new Promise<void>((resolve, reject) => this.enqueue({
      fn, resolve: () => resolve(), reject: (reason) => { onFailed(reason); reject(reason); }, sync: true, written: onWritten as (value: unknown) => void,
    }));
    // A caller awaiting `written` first must not see `durable`'s failure reported as unhandled meanwhile.
    written.catch(() => undefined);
    durable.catch(() => undefined);
    return { written, durable };
  }

  private enqueue(item: PendingUpdate<T>): void {
    if (this.closed) {
      item.reject(new AppError('store.unwritable', { message: `data file ${this.file} is closed` }));
      return;
    }
    const turn = item.sync ? currentTurnSyncs() : undefined;
    this.pending.push(turn ? { ...item, turn } : item);
    // Start on a microtask so that callers of the same tick share the first write too.
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  /**
   * Applies and writes the pending updates, batch by batch. A batch's fdatasync is not waited for
   * here: the next batch is written while it runs (its own fdatasync covers both), and batches
   * resolve in order as their syncs complete. Waiting would make every update that arrives during
   * a sync wait for that sync and then its own, each coming back through the event loop.
   */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const applied: { item: PendingUpdate<T>; result: unknown }[] = [];
      for (const item of batch) {
        try {
          applied.push({ item, result: this.tracker.run(item.fn as (data: Record<string, unknown>) => unknown) });
        } catch (err) {
          item.reject(err);
        }
      }
      if (applied.length === 0 && !this.tracker.dirty()) continue;
      const entries = this.tracker.take();
      if (entries.length === 0) {
        // Nothing changed (a read, an idempotent repeat): resolved after the batches before it, with
        // no sync of its own; a turn's reply sender still syncs the journal, which may hold what it read.
        for (const { item, result } of applied) item.written?.(result);
        void this.syncs.idle().then(() => {
          for (const { item, result } of applied) {
            item.turn?.add(JsonFileDb.journalOf(this.file));
            item.resolve(result);
          }
        });
        continue;
      }
      let compacted = false;
      try {
        await this.append(entries);
        if (this.journalBytes >= Math.max(this.compactBytes, this.snapshotBytes)) {
          // The new data file carries everything, durably: it replaces the journal once the syncs in flight are done.
          await this.syncs.idle();
          await this.compact();
          compacted = true;
        }
      } catch (err) {
        const failure = new AppError('store.unwritable', { cause: err, message: `cannot write data file ${this.file}` });
        for (const { item } of applied) item.reject(failure);
        continue;
      }
      for (const { item, result } of applied) item.written?.(result);
      // A turn's updates are synced by its reply sender (TurnSyncs); after a compaction everything is durable.
      const written = applied.map(({ item, result }) => ({ resolve: () => item.resolve(result), reject: item.reject, turn: item.turn, sync: item.sync }));
      this.syncs.settle(written, JsonFileDb.journalOf(this.file), this.journal, !compacted, (err) => new AppError('store.unwritable', { cause: err, message: `cannot write data file ${this.file}` }));
    }
    this.flushing = undefined;
  }

  /** Writes the entries to the journal (not synced: SyncOrder does that). */
  private async append(entries: JournalEntry[]): Promise<void> {
    const text = entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    try {
      this.journalBytes += appendSync(this.journal, text);
    } catch (err) {
      // Cut off a partly written line, so that the next append does not follow a torn one.
      await this.journal.truncate(this.journalBytes).catch(() => undefined);
      throw err;
    }
  }

  /** Writes the whole data to the data file (durably), then empties the journal. */
  private async compact(): Promise<void> {
    await this.low.write();
    const handle = await open(this.file, 'r');
    try {
      await handle.datasync();
      this.snapshotBytes = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    await this.journal.truncate(0);
    await this.journal.datasync();
    this.journalBytes = 0;
  }

  /** Waits for pending writes, then releases the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.syncs.idle();
    await this.journal.close().catch(() => undefined);
    releaseLock(this.lockFile);
  }
}

/**
 * Applies a journal to freshly read data; returns the length in bytes of its valid part.
 * Throws AppError 'store.unreadable' for an invalid line that is not the last (a torn last line
 * is what a crash mid-append leaves, and is dropped).
 */
async function replayJournal(journalFile: string, data: Record<string, unknown>): Promise<number> {
  const text = await readFile(journalFile, 'utf8');
  let offset = 0;
  let good = 0;
  while (offset < text.length) {
    const end = text.indexOf('\n', offset);
    const line = text.slice(offset, end < 0 ? text.length : end);
    const last = end < 0 || end === text.length - 1;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
      if (!Array.isArray(entry.p) || entry.p.length < 1 || entry.p.length > 2) throw new Error('not a journal entry');
    } catch (err) {
      if (last) break;
      throw new AppError('store.unreadable', { cause: err, message: `journal ${journalFile} has an invalid line after byte ${Buffer.byteLength(text.slice(0, offset))}; fix or move it away (it was left untouched)` });
    }
    if (end < 0) break; // a complete JSON value without its newline is still a torn write
    applyEntry(data, entry);
    offset = end + 1;
    good = Buffer.byteLength(text.slice(0, offset));
  }
  return good;
}

function applyEntry(data: Record<string, unknown>, entry: JournalEntry): void {
  const [key, id] = entry.p;
  if (id === undefined) {
    if (entry.d) delete data[key];
    else data[key] = entry.v;
    return;
  }
  let collection = data[key] as Record<string, unknown> | undefined;
  if (collection === null || typeof collection !== 'object') {
    collection = {};
    data[key] = collection;
  }
  if (entry.d) delete collection[id];
  else collection[id] = entry.v;
}

const TARGET = Symbol('json-file-db.target');

/**
 * Records which top-level entries an update function sets or deletes. Within a collection
 * (a top-level object or array) the unit is one member, `data[key][id]`, whatever depth the change
 * was made at; shrinking a top-level array marks the whole array.
 */
class ChangeTracker {
  /** key → 'all', or the ids changed within that collection. */
  private changed = new Map<string, 'all' | Set<string>>();
  /**
   * The proxies handed out during the current run, by target (one proxy per object, so that
   * identity holds within an update). Forgotten after each run: kept, they would pin a proxy and
   * its closures to every object ever touched, for as long as the data lives (they were a good
   * part of what a busy bot's young generation promoted to the old one).
   */
  private readonly proxies = new Map<object, object>();

  constructor(private readonly root: Record<string, unknown>) {}

  run<R>(fn: (data: Record<string, unknown>) => R): R {
    try {
      return unwrap(fn(this.wrap(this.root, undefined, undefined)));
    } finally {
      this.proxies.clear();
    }
  }

  dirty(): boolean {
    return this.changed.size > 0;
  }

  /** The journal entries for everything changed since the last take(). */
  take(): JournalEntry[] {
    const entries: JournalEntry[] = [];
    for (const [key, ids] of this.changed) {
      if (ids === 'all') {
        entries.push(key in this.root ? { p: [key], v: this.root[key] } : { p: [key], d: 1 });
        continue;
      }
      const collection = this.root[key] as Record<string, unknown> | undefined;
      if (collection === null || typeof collection !== 'object') {
        entries.push(collection === undefined ? { p: [key], d: 1 } : { p: [key], v: collection });
        continue;
      }
      for (const id of ids) entries.push(id in collection ? { p: [key, id], v: collection[id] } : { p: [key, id], d: 1 });
    }
    this.changed = new Map();
    return entries;
  }

  private mark(key: string, id: string | undefined): void {
    if (id === undefined) {
      this.changed.set(key, 'all');
      return;
    }
    const ids = this.changed.get(key);
    if (ids === 'all') return;
    if (ids) ids.add(id);
    else this.changed.set(key, new Set([id]));
  }

  /** A proxy of `target`, which lives at depth 0 (root), 1 (data[key]) or below (data[key][id]…). */
  private wrap<O extends object>(target: O, key: string | undefined, id: string | undefined): O {
    const known = this.proxies.get(target);
    if (known) return known as O;
    const depth = key === undefined ? 0 : id === undefined ? 1 : 2;
    const child = (prop: string): [string | undefined, string | undefined] => (depth === 0 ? [prop, undefined] : depth === 1 ? [key, prop] : [key, id]);
    const changedBy = (prop: string): void => {
      if (depth === 0) this.mark(prop, undefined);
      else if (depth === 1) this.mark(key!, prop);
      else this.mark(key!, id);
    };
    const proxy = new Proxy(target, {
      get: (t, prop, receiver) => {
        if (prop === TARGET) return t;
        if (Array.isArray(t) && typeof prop === 'string' && SEARCHES.has(prop)) return this.search(t, prop, key, id, depth);
        const value = Reflect.get(t, prop, receiver) as unknown;
        if (typeof prop !== 'string' || !isTracked(value)) return value;
        const [k, i] = child(prop);
        return this.wrap(value, k, i);
      },
      set: (t, prop, value) => {
        if (typeof prop !== 'string') return Reflect.set(t, prop, value);
        if (prop === 'length' && Array.isArray(t)) {
          // Growing follows the index writes already recorded; shrinking drops members.
          if (depth === 1 && (value as number) < t.length) this.mark(key!, undefined);
          else if (depth !== 1) changedBy(prop);
          return Reflect.set(t, prop, value);
        }
        changedBy(prop);
        return Reflect.set(t, prop, unwrap(value));
      },
      deleteProperty: (t, prop) => {
        if (typeof prop === 'string') changedBy(prop);
        return Reflect.deleteProperty(t, prop);
      },
      defineProperty: (t, prop, descriptor) => {
        if (typeof prop === 'string') changedBy(prop);
        return Reflect.defineProperty(t, prop, 'value' in descriptor ? { ...descriptor, value: unwrap(descriptor.value) } : descriptor);
      },
    });
    this.proxies.set(target, proxy);
    return proxy;
  }

  /**
   * A search of an array that runs its predicate on the plain members (a collection of thousands
   * of requests is not walked through a proxy per member) and hands out tracked members.
   */
  private search(array: unknown[], method: string, key: string | undefined, id: string | undefined, depth: number): (predicate: (value: never, index: number) => unknown) => unknown {
    const member = (i: number): unknown => {
      const value = array[i];
      if (!isTracked(value)) return value;
      return depth === 1 ? this.wrap(value, key, String(i)) : this.wrap(value, key, id);
    };
    return (predicate) => {
      const test = predicate as (value: unknown, index: number) => unknown;
      switch (method) {
        case 'find': {
          const i = array.findIndex((v, n) => test(v, n));
          return i < 0 ? undefined : member(i);
        }
        case 'filter': {
          const out: unknown[] = [];
          array.forEach((v, n) => { if (test(v, n)) out.push(member(n)); });
          return out;
        }
        case 'findIndex': return array.findIndex((v, n) => test(v, n));
        case 'some': return array.some((v, n) => test(v, n));
        default: return array.every((v, n) => test(v, n));
      }
    };
  }
}

/** Array searches whose predicates only read (see ChangeTracker.search). */
const SEARCHES = new Set(['find', 'filter', 'findIndex', 'some', 'every']);

function isTracked(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}

/** Replaces tracking proxies (at any depth of a new value) by the objects they stand for. */
function unwrap<V>(value: V): V {
  if (value === null || typeof value !== 'object') return value;
  const target = (value as { [TARGET]?: object })[TARGET];
  if (target) return target as V;
  if (!isTracked(value)) return value;
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v !== null && typeof v === 'object') {
      const u = unwrap(v);
      if (u !== v) obj[k] = u;
    }
  }
  return value;
}

/**
 * Takes the lock file of a data file (or folder) for this process.
 * Throws AppError 'store.unwritable' when another live process holds it or it cannot be created.
 * A lock left by a dead process is taken over.
 */
/**
 * Makes the folder of a data file and takes its `.lock` (one process per file); returns the lock
 * file's path for releaseLock. Throws AppError 'store.unwritable'.
 */
export function claimDataFile(file: string): string {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw new AppError('store.unwritable', { cause: err, message: `cannot create the folder for ${file}` });
  }
  const lockFile = `${file}.lock`;
  acquireLock(lockFile, file);
  return lockFile;
}

export function acquireLock(lockFile: string, file: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new AppError('store.unwritable', { cause: err, message: `cannot lock data file ${file}` });
      }
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new AppError('store.unwritable', {
          message: `data file ${file} is in use by process ${owner}; run one bot per DATA_DIR`,
        });
      }
      // A lock left by a crashed process (or by this process, e.g. a test reopening the file) is stale.
      unlinkSync(lockFile);
    }
  }
  throw new AppError('store.unwritable', { message: `cannot lock data file ${file}` });
}

/** Releases a lock taken by acquireLock. Idempotent. */
export function releaseLock(lockFile: string): void {
  try {
    unlinkSync(lockFile);
  } catch {
    // Already gone: nothing to release.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
