import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { DataFile } from 'lowdb/node';
import { AppError } from '../errors.js';

interface PendingUpdate<T> {
  fn: (data: T) => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/**
 * One lowdb JSON file, owned by one process. Updates are serialised, so concurrent callers never
 * lose each other's writes, and each update resolves only after the file was atomically replaced
 * (temp file + rename; no fsync, like lowdb).
 *
 * Group commit: updates that arrive while a write is in flight are applied together, in call
 * order, and written once. Under load this turns N whole-file rewrites into one, without giving up
 * "resolved means written".
 *
 * A `.lock` file beside the data file keeps a second process from opening it (lowdb has no
 * cross-process locking: two writers lose updates).
 */
export class JsonFileDb<T extends object> {
  private readonly low: Low<T>;
  private pending: PendingUpdate<T>[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(readonly file: string, low: Low<T>, private readonly lockFile: string) {
    this.low = low;
  }

  /**
   * Opens (or creates with `defaults`) a data file.
   * Throws AppError 'store.unreadable' when the file exists but is not valid JSON, and
   * 'store.unwritable' when it is locked by another live process or cannot be created.
   */
  static async open<T extends object>(file: string, defaults: T): Promise<JsonFileDb<T>> {
    const lockFile = claimDataFile(file);
    try {
      let data: T;
      if (existsSync(file)) {
        const text = await readFile(file, 'utf8');
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
      // Compact JSON: pretty-printing doubles the time of every rewrite and ~1.5× the bytes.
      const low = new Low<T>(new DataFile<T>(file, { parse: JSON.parse, stringify: (d) => JSON.stringify(d) }), data);
      const db = new JsonFileDb<T>(file, low, lockFile);
      if (!existsSync(file)) await db.update(() => undefined);
      return db;
    } catch (err) {
      releaseLock(lockFile);
      if (err instanceof AppError) throw err;
      throw new AppError('store.unwritable', { cause: err, message: `cannot open data file ${file}` });
    }
  }

  /** The current data. Treat as read-only: change it only inside update(). */
  get data(): T {
    return this.low.data;
  }

  /**
   * Applies `fn` to the data and writes the file; resolves with fn's result once the write that
   * includes it finished. Calls are applied one at a time in call order. A throwing `fn` rejects
   * only its own call. Throws AppError 'store.unwritable' when the write fails or the file is closed.
   */
  update<R>(fn: (data: T) => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.closed) {
        reject(new AppError('store.unwritable', { message: `data file ${this.file} is closed` }));
        return;
      }
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      // Start on a microtask so that callers of the same tick share the first write too.
      this.flushing ??= Promise.resolve().then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const applied: { item: PendingUpdate<T>; result: unknown }[] = [];
      for (const item of batch) {
        try {
          applied.push({ item, result: item.fn(this.low.data) });
        } catch (err) {
          item.reject(err);
        }
      }
      if (applied.length === 0) continue;
      try {
        await this.low.write();
      } catch (err) {
        const failure = new AppError('store.unwritable', { cause: err, message: `cannot write data file ${this.file}` });
        for (const { item } of applied) item.reject(failure);
        continue;
      }
      for (const { item, result } of applied) item.resolve(result);
    }
    this.flushing = undefined;
  }

  /** Waits for pending writes, then releases the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    releaseLock(this.lockFile);
  }
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
