import { open, readFile, type FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { appendSync, datasync } from './append-file.js';
import { claimDataFile, releaseLock } from './json-file-db.js';

/**
 * An append-only file of JSON lines, owned by one process (a `.lock` file as JsonFileDb uses).
 * append() resolves once the line was written (and, with `sync`, fdatasync'd: it then survives a
 * power loss too); appends that arrive while a write is in flight share one write and one sync. A torn last line (a crash mid-write) is cut off on open.
 * Errors: AppError 'store.unreadable' (a damaged line before the last), 'store.unwritable'.
 */
export class JsonLinesFile<T> {
  private queue: { line: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(readonly file: string, private readonly handle: FileHandle, private readonly lockFile: string, private readonly sync: boolean) {}

  static async open<T>(file: string, options: { sync?: boolean } = {}): Promise<JsonLinesFile<T>> {
    const lockFile = claimDataFile(file);
    try {
      const handle = await open(file, 'a+');
      const bytes = await readFile(file);
      const end = bytes.lastIndexOf(0x0a) + 1;
      if (end < bytes.length) await handle.truncate(end);
      return new JsonLinesFile<T>(file, handle, lockFile, options.sync ?? false);
    } catch (err) {
      releaseLock(lockFile);
      throw new AppError('store.unwritable', { cause: err, message: `cannot open ${file}` });
    }
  }

  /** Appends one record. Throws AppError 'store.unwritable'. */
  append(record: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) {
        reject(new AppError('store.unwritable', { message: `${this.file} is closed` }));
        return;
      }
      this.queue.push({ line: `${JSON.stringify(record)}\n`, resolve, reject });
      this.flushing ??= Promise.resolve().then(() => this.flush());
    });
  }

  /** Every record, oldest first. Throws AppError 'store.unreadable' for a damaged line. */
  async readAll(): Promise<T[]> {
    await this.flushing;
    const text = await readFile(this.file, 'utf8');
    const lines = text.split('\n');
    lines.pop();
    return lines.map((line, i) => {
      try {
        return JSON.parse(line) as T;
      } catch (err) {
        throw new AppError('store.unreadable', { cause: err, message: `damaged line ${i + 1} of ${this.file}` });
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.handle.close().catch(() => undefined);
    releaseLock(this.lockFile);
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        appendSync(this.handle, batch.map((b) => b.line).join(''));
        if (this.sync) await datasync(this.handle);
        for (const b of batch) b.resolve();
      } catch (err) {
        const failure = new AppError('store.unwritable', { cause: err, message: `cannot append to ${this.file}` });
        for (const b of batch) b.reject(failure);
      }
    }
    this.flushing = undefined;
  }
}
