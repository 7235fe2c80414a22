import { AsyncLocalStorage } from 'node:async_hooks';
import { fdatasync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Appends `data` to a file opened for appending, with write(2) on this thread.
 *
 * An append of a few KB to the page cache takes a few microseconds; the same write through
 * fs/promises goes through the thread pool, a promise and a wake-up of the event loop, and cost
 * about 40 µs of CPU on the bench machine, which at a few writes per turn was a visible share of a
 * turn. Durability is unchanged: like the asynchronous write, this returns once the kernel has the
 * bytes (they survive a crash of the process); `datasync` makes them survive a power loss.
 * Throws what write(2) reports (ENOSPC, EIO, EBADF); part of `data` may then be in the file.
 */
export function appendSync(handle: FileHandle, data: Buffer | string): number {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  while (done < buf.length) done += writeSync(handle.fd, buf, done, buf.length - done);
  return buf.length;
}

/**
 * fdatasync(2) in the thread pool (it waits for the disk), through the callback API, which costs
 * less CPU than FileHandle.datasync(). The caller keeps the handle open until this settles.
 */
export function datasync(handle: FileHandle): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(handle.fd, (err) => (err ? reject(err) : resolve()));
  });
}

/** Syncs asked for but not issued yet, by file: they are issued once the event loop's current pass is done. */
const scheduled = new Map<FileHandle, Promise<void>>();

/**
 * Starts `run` once the event loop has handled everything that is ready now (setImmediate), shared
 * by every caller with the same `key` until then; a caller after that gets a new run. For syncs:
 * one sync started after all of them covers every write its callers made before asking.
 */
export function oncePerPass<K>(pending: Map<K, Promise<void>>, key: K, run: () => Promise<void>): Promise<void> {
  let shared = pending.get(key);
  if (!shared) {
    shared = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        pending.delete(key);
        run().then(resolve, reject);
      });
    });
    pending.set(key, shared);
  }
  return shared;
}

/**
 * fdatasync(2) of `handle`, issued once the event loop has handled everything that is ready now,
 * and shared by every caller until then (oncePerPass): one sync covers all that was written to the
 * file meanwhile. Under load one pass of the loop handles many turns, and each sync asked for
 * costs the event loop a wake-up of a pool thread (20–60 µs here), while its answer can only be
 * handled on the next pass anyway; sharing it costs no latency. The caller keeps the handle open
 * until this settles.
 */
export function datasyncSoon(handle: FileHandle): Promise<void> {
  return oncePerPass(scheduled, handle, () => datasync(handle));
}

/**
 * The files a turn wrote that must be on disk before its reply leaves.
 *
 * A write that must survive a power loss normally resolves once its fdatasync is done, and under
 * load that answer comes back through a busy event loop: a turn that makes three things durable one
 * after another (the filing turn: its outbox row, the operator's record, the tracking and audit
 * entries) waited three passes of the loop more than any other turn. Inside a turn that carries a
 * TurnSyncs (runWithTurnSyncs), such writes resolve once they are in the file (they survive a crash
 * of the process) and their files are noted here instead; whoever sends the turn's reply makes
 * those files durable first (the reply thread: fdatasync, then send). So nothing is told to the
 * user before it is on disk, as before; only the order in which the turn's own writes reach the
 * disk is no longer fixed, which matters only to a power loss before the reply, when the user has
 * been told nothing and the idempotency keys make the confirmation safe to repeat.
 */
export class TurnSyncs {
  private readonly files = new Set<string>();
  private ended = false;

  /** The turn is over: later writes made in its context wait for their own syncs again. */
  end(): void {
    this.ended = true;
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Notes that `file` holds a write of this turn. */
  add(file: string): void {
    this.files.add(file);
  }

  /** The files noted since the last take(), now the caller's to sync. */
  take(): string[] {
    const files = [...this.files];
    this.files.clear();
    return files;
  }

  get size(): number {
    return this.files.size;
  }
}

const turnSyncs = new AsyncLocalStorage<TurnSyncs>();

/** Runs `fn` as a turn whose durable writes are synced by whoever sends its reply (see TurnSyncs). */
export function runWithTurnSyncs<R>(syncs: TurnSyncs, fn: () => R): R {
  return turnSyncs.run(syncs, fn);
}

/** The TurnSyncs of the turn the caller runs in, if any. */
export function currentTurnSyncs(): TurnSyncs | undefined {
  const syncs = turnSyncs.getStore();
  return syncs?.open ? syncs : undefined;
}
