import { open, type FileHandle } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { appendSync, currentTurnSyncs, type TurnSyncs } from './append-file.js';
import { SyncOrder } from './sync-order.js';
import { KeyedMutex } from '../util/keyed-mutex.js';

/**
 * Appends to one file with group commit: items that arrive while a batch is being written go
 * together in the next batch (one append, one fdatasync), which is written while the sync of the
 * one before still runs. Each append() resolves once its item is durable (with `sync` false, or
 * inside a turn that carries TurnSyncs, see append-file.ts: once it is in the file). `render` turns a batch into text at write
 * time, so order-dependent content (a hash chain) is computed in write order; `onWritten` runs
 * after the batch is written.
 *
 * The file stays open between writes (opening and closing it per batch cost more CPU than the
 * write itself); exclusive() closes it first, so a rewrite that replaces the file is picked up.
 */
export class BatchedAppender<T> {
  private queue: { item: T; resolve: () => void; reject: (err: unknown) => void; turn: TurnSyncs | undefined }[] = [];
  private running: Promise<void> | undefined;
  private readonly syncs = new SyncOrder();
  private readonly lock = new KeyedMutex();
  private handle: FileHandle | undefined;

  constructor(
    readonly file: string,
    private readonly render: (batch: T[]) => string,
    private readonly onWritten: (batch: T[]) => void = () => {},
    /** fdatasync each batch (survives a power loss); false: written to the file only (survives a crash of the process). */
    private readonly sync = true,
  ) {}

  append(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      // An append of a turn whose reply sender syncs its files (append-file.ts) resolves once written.
      this.queue.push({ item, resolve, reject, turn: this.sync ? currentTurnSyncs() : undefined });
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

  /**
   * Opens the file now rather than at the first append (which would wait for the thread pool,
   * where under load it queues behind other files' fdatasyncs). Throws AppError 'store.unwritable'.
   */
  open(): Promise<void> {
    return this.lock.run('file', async () => {
      try {
        this.handle ??= await open(this.file, 'a');
      } catch (err) {
        throw new AppError('store.unwritable', { cause: err, message: `cannot open ${this.file}` });
      }
    });
  }

  /** Runs `fn` with no write in flight and the file closed (e.g. to rewrite or replace it). */
  exclusive<R>(fn: () => Promise<R>): Promise<R> {
    return this.lock.run('file', async () => {
      await this.release();
      return fn();
    });
  }

  /** Writes everything appended so far, then closes the file (a later append opens it again). */
  async close(): Promise<void> {
    await this.flush();
    await this.lock.run('file', () => this.release());
  }

  private async release(): Promise<void> {
    // The handle stays open until its syncs are done.
    await this.syncs.idle();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  /** Resolves when everything appended so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.syncs.idle();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      await this.lock.run('file', async () => {
        try {
          const items = batch.map((b) => b.item);
          const text = this.render(items);
          this.handle ??= await open(this.file, 'a');
          try {
            appendSync(this.handle, text);
          } catch (err) {
            // Reopen on the next batch rather than keep using a handle that failed.
            await this.release();
            throw err;
          }
          this.onWritten(items);
          this.syncs.settle(batch, this.file, this.handle, this.sync, (err) => new AppError('store.unwritable', { cause: err, message: `cannot sync ${this.file}` }));
        } catch (err) {
          const failure = err instanceof AppError ? err : new AppError('store.unwritable', { cause: err, message: `cannot append to ${this.file}` });
          for (const b of batch) b.reject(failure);
        }
      });
    }
  }
}
