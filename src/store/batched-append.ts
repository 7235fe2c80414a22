import { open } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { KeyedMutex } from '../util/keyed-mutex.js';

/**
 * Appends to one file with group commit: items that arrive while a write is in flight are written
 * together by the next write (one append, one fdatasync). Each append() resolves once its item is
 * durable. `render` turns a batch into text at write time, so order-dependent content (a hash
 * chain) is computed in write order; `onWritten` runs after the batch is durable.
 */
export class BatchedAppender<T> {
  private queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private running: Promise<void> | undefined;
  private readonly lock = new KeyedMutex();

  constructor(
    readonly file: string,
    private readonly render: (batch: T[]) => string,
    private readonly onWritten: (batch: T[]) => void = () => {},
  ) {}

  append(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  /**
   * Starts draining unless a drain is running. An item queued after a drain's last look at the
   * queue but before it finished is picked up by the restart in `finally`.
   */
  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Runs `fn` with no write in flight (e.g. to rewrite the file). */
  exclusive<R>(fn: () => Promise<R>): Promise<R> {
    return this.lock.run('file', fn);
  }

  /** Resolves when everything appended so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      await this.lock.run('file', async () => {
        try {
          const items = batch.map((b) => b.item);
          const text = this.render(items);
          const handle = await open(this.file, 'a');
          try {
            await handle.appendFile(text, 'utf8');
            await handle.datasync();
          } finally {
            await handle.close();
          }
          this.onWritten(items);
          for (const b of batch) b.resolve();
        } catch (err) {
          const failure = err instanceof AppError ? err : new AppError('store.unwritable', { cause: err, message: `cannot append to ${this.file}` });
          for (const b of batch) b.reject(failure);
        }
      });
    }
  }
}
