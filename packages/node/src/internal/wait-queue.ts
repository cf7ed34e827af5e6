/**
 * A FIFO of tasks parked until something outside Quartet happens: a stream
 * emits 'readable' or 'drain', a read settles. The adapters' one way to block.
 *
 * Invariant: every entry in the queue belongs to a task parked with
 * `parkCurrentTask`, whose abort callback removes the entry; waking or failing
 * an entry removes it first. So a task is in the queue exactly while it waits.
 *
 * @module
 */

import { parkCurrentTask, type ParkedTask } from "@quartet/core/lowlevel";

interface Entry {
  parked: ParkedTask<void>;
  /** The channel handle the task waits through, so that closing that handle can fail exactly its waiters. */
  readonly owner: object | null;
}

export class WaitQueue {
  /** Insertion-ordered, so iteration is FIFO; deletion is O(1). */
  readonly #entries = new Set<Entry>();

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Parks the calling task at the back of the queue until it is woken. A
   * checkpoint: throws `Cancelled` at once in a cancelled scope, and leaves the
   * queue with `Cancelled` when the scope is cancelled while it waits.
   */
  park(owner: object | null): Promise<void> {
    const entries = this.#entries;
    const entry: Entry = { parked: undefined!, owner };
    entry.parked = parkCurrentTask<void>(() => entries.delete(entry));
    entries.add(entry);
    return entry.parked.promise;
  }

  /** Wakes the task that has waited longest; false if none waits. */
  wakeFirst(): boolean {
    for (const entry of this.#entries) {
      this.#entries.delete(entry);
      entry.parked.wake();
      return true;
    }
    return false;
  }

  /** Wakes every waiting task (each looks again at what changed). */
  wakeAll(): void {
    for (const entry of this.#entries) entry.parked.wake();
    this.#entries.clear();
  }

  /** Fails the tasks that wait through `owner` (a handle being closed) with `error()`. */
  failOwnedBy(owner: object, error: () => Error): void {
    for (const entry of this.#entries) {
      if (entry.owner !== owner) continue;
      this.#entries.delete(entry);
      entry.parked.fail(error());
    }
  }
}
