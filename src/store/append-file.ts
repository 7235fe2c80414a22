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
const scheduled = new WeakMap<FileHandle, Promise<void>>();

/**
 * fdatasync(2) of `handle`, issued once the event loop has handled everything that is ready now
 * (setImmediate), and shared by every caller until then: one sync covers all that was written to
 * the file meanwhile. Under load one pass of the loop handles many turns, and each sync asked for
 * costs the event loop a wake-up of a pool thread (20–60 µs here), while its answer can only be
 * handled on the next pass anyway; sharing it costs no latency. The caller keeps the handle open
 * until this settles.
 */
export function datasyncSoon(handle: FileHandle): Promise<void> {
  let sync = scheduled.get(handle);
  if (!sync) {
    sync = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        scheduled.delete(handle);
        datasync(handle).then(resolve, reject);
      });
    });
    scheduled.set(handle, sync);
  }
  return sync;
}
