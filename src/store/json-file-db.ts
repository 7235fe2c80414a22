import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { AppError } from '../errors.js';

/**
 * One lowdb JSON file, owned by one process. Updates are serialised, so concurrent callers never
 * lose each other's writes, and each update resolves only after the file was atomically replaced.
 * A `.lock` file beside the data file keeps a second process from opening it (lowdb has no
 * cross-process locking: two writers lose updates).
 */
export class JsonFileDb<T extends object> {
  private readonly low: Low<T>;
  private queue: Promise<unknown> = Promise.resolve();
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
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      throw new AppError('store.unwritable', { cause: err, message: `cannot create the folder for ${file}` });
    }
    const lockFile = `${file}.lock`;
    acquireLock(lockFile, file);
    try {
      let data: T;
      if (existsSync(file)) {
        const text = await readFile(file, 'utf8');
        try {
          data = { ...structuredClone(defaults), ...(JSON.parse(text) as T) };
        } catch (err) {
          throw new AppError('store.unreadable', { cause: err, message: `data file ${file} is not valid JSON; fix or move it away (it was left untouched)` });
        }
      } else {
        data = structuredClone(defaults);
      }
      const low = new Low<T>(new JSONFile<T>(file), data);
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
   * Applies `fn` to the data and writes the file. Calls run one at a time in call order.
   * Throws AppError 'store.unwritable' when the write fails.
   */
  update<R>(fn: (data: T) => R): Promise<R> {
    const run = async (): Promise<R> => {
      if (this.closed) throw new AppError('store.unwritable', { message: `data file ${this.file} is closed` });
      const result = fn(this.low.data);
      try {
        await this.low.write();
      } catch (err) {
        throw new AppError('store.unwritable', { cause: err, message: `cannot write data file ${this.file}` });
      }
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Waits for pending writes, then releases the file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    releaseLock(this.lockFile);
  }
}

function acquireLock(lockFile: string, file: string): void {
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

function releaseLock(lockFile: string): void {
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
