import type { FileHandle } from 'node:fs/promises';
import { datasyncSoon, type TurnSyncs } from './append-file.js';

/** A write waiting to be resolved: by its own sync, or at once when its turn's reply sender syncs its file. */
export interface WrittenItem {
  resolve(): void;
  reject(err: unknown): void;
  turn?: TurnSyncs | undefined;
  /** false: needs no sync of its own (resolved once written), unless its batch has a write that does. */
  sync?: boolean;
}

/**
 * Resolves the written batches of one appended file in order, each once its fdatasync is done.
 * The next batch is written while a sync runs (its own sync covers both): waiting for a sync
 * before writing on would make every write that arrives meanwhile wait for that sync and then for
 * its own, each coming back through the event loop. An item of a turn whose reply sender syncs
 * its files (TurnSyncs) resolves once written, its file noted for that sync.
 */
export class SyncOrder {
  /** Settles once every batch handed over so far has been resolved or rejected (never rejects). */
  private tail: Promise<void> = Promise.resolve();

  /**
   * `batch` was written to `file` (open as `handle`). Without `sync` (or when none of its items
   * needs one) it resolves at once. `failed` turns a failed sync into the error its items are
   * rejected with.
   */
  settle(batch: WrittenItem[], file: string, handle: FileHandle, sync: boolean, failed: (err: unknown) => unknown): void {
    const waiting: WrittenItem[] = [];
    for (const item of batch) {
      if (sync && item.turn) {
        item.turn.add(file);
        item.resolve();
      } else {
        waiting.push(item);
      }
    }
    if (!sync || !waiting.some((item) => item.sync !== false)) {
      for (const item of waiting) item.resolve();
      return;
    }
    const durable = datasyncSoon(handle);
    durable.catch(() => undefined);
    this.tail = this.tail.then(() => durable).then(
      () => { for (const item of waiting) item.resolve(); },
      (err: unknown) => {
        const failure = failed(err);
        for (const item of waiting) item.reject(failure);
      },
    );
  }

  /** Resolves once every batch handed over so far has settled (the file may be closed then). */
  idle(): Promise<void> {
    return this.tail;
  }
}
