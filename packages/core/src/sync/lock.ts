/**
 * Locks: mutual exclusion that belongs to a task and is handed over fairly.
 *
 * @module
 */

import { current } from "../core/context.js";
import { WouldBlock } from "../core/errors.js";
import { ParkingLot } from "../core/parking-lot.js";
import type { Task } from "../core/task.js";
import { describe, nameOption, type NameOptions } from "../core/validate.js";

/**
 * What {@link Lock.statistics} reports.
 *
 * @example
 * ```ts
 * import { Lock, sleep, taskGroup } from "@quartet/core";
 * import { waitAllTasksBlocked } from "@quartet/testing";
 *
 * const lock = new Lock();
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => { using _ = await lock.acquire(); await sleep(100); }, { name: "writer" });
 *   tg.spawn(async () => { using _ = await lock.acquire(); }, { name: "reader" });
 *   await waitAllTasksBlocked();
 *   const { owner, tasksWaiting } = lock.statistics();
 *   console.log(owner, tasksWaiting); // writer 1
 * });
 * ```
 */
export interface LockStatistics {
  /** Whether some task holds the lock. */
  readonly locked: boolean;
  /** The name of the task that holds the lock, or `null`. */
  readonly owner: string | null;
  /** Tasks blocked in `acquire()` (and, for a `Condition`, notified tasks waiting to get the lock back). */
  readonly tasksWaiting: number;
}

/** @internal The lock's wait queue, onto which a `Condition` moves the tasks it notifies (trio's repark). */
export let lotOf: (lock: Lock) => ParkingLot<Disposable>;

/** @internal The acquisition that `task` holds on `lock`, or `null` if it does not hold it. */
export let acquisitionHeldBy: (lock: Lock, task: Task) => Disposable | null;

/**
 * @internal Acquires `lock` as `acquire()` does, but as `acquisition`: a
 * `Condition` that had to let go of the lock gives the caller back the same
 * acquisition, so the caller's `using` still releases it.
 */
export let acquireAs: (lock: Lock, acquisition: Disposable) => Promise<Disposable>;

/**
 * A mutual-exclusion lock (trio's `Lock`): at most one task holds it at a time.
 *
 * The lock belongs to the task that acquired it: only that task may release
 * it, and acquiring it again from the same task throws instead of deadlocking.
 * (Code outside any task counts as one task, the implicit root, for every
 * caller: there a second `acquire()` waits for the first to be released.)
 * It is fair: tasks get it in the order they asked for it, and `release()`
 * hands it straight to the first waiting task, so a newcomer can never grab it
 * in between and starve the waiters.
 *
 * `acquire()` returns a `Disposable`, so `using` releases the lock at the end
 * of the block, however the block is left.
 *
 * @example
 * ```ts
 * import { Lock, sleep, taskGroup } from "@quartet/core";
 * const lock = new Lock();
 * await taskGroup(async (tg) => {
 *   for (const name of ["a", "b"]) {
 *     tg.spawn(async () => {
 *       using _ = await lock.acquire();
 *       console.log(name, "has the lock");
 *       await sleep(10);
 *     });
 *   }
 * });
 * ```
 */
export class Lock {
  /** The task holding the lock. Invariant: the lot is empty whenever this is null. */
  #owner: Task | null = null;
  /** The acquisition the owner holds; disposing any other one does nothing. */
  #acquisition: Disposable | null = null;
  /** Waiting tasks, each parked with the acquisition it will hold (its `value`). */
  readonly #lot: ParkingLot<Disposable>;

  /**
   * Makes an unlocked lock; `name` shows in the task tree.
   *
   * @example
   * ```ts
   * import { Lock } from "@quartet/core";
   * const lock = new Lock({ name: "db" });
   * console.log(lock.locked()); // false
   * ```
   */
  constructor(options?: NameOptions) {
    this.#lot = new ParkingLot({ operation: "acquire", object: "Lock", name: nameOption(options, "Lock") });
  }

  static {
    lotOf = (lock) => lock.#lot;
    acquisitionHeldBy = (lock, task) => (lock.#owner === task ? lock.#acquisition : null);
    acquireAs = (lock, acquisition) => lock.#acquire(acquisition);
  }

  /**
   * Waits until the lock is free and takes it; returns a `Disposable` that
   * releases it (once: disposing it after the lock was released another way does
   * nothing). A checkpoint: in a cancelled scope it throws `Cancelled` without
   * acquiring, and a task cancelled while waiting leaves the queue holding
   * nothing. Throws if the calling task already holds the lock.
   *
   * @example
   * ```ts
   * import { Lock } from "@quartet/core";
   * const lock = new Lock();
   * {
   *   using _ = await lock.acquire();
   *   console.log(lock.locked()); // true
   * }
   * console.log(lock.locked()); // false
   * ```
   */
  acquire(): Promise<Disposable> {
    return this.#acquire(undefined);
  }

  /**
   * Takes the lock if that can be done without waiting: it is free and no task
   * is queued for it. Throws `WouldBlock` otherwise, and an `Error` if the
   * calling task already holds it.
   *
   * @example
   * ```ts
   * import { Lock, WouldBlock } from "@quartet/core";
   * const lock = new Lock();
   * try {
   *   using _ = lock.acquireNowait();
   *   console.log("got it without waiting");
   * } catch (err) {
   *   if (!(err instanceof WouldBlock)) throw err;
   *   console.log("busy; try again later");
   * }
   * ```
   */
  acquireNowait(): Disposable {
    const acquisition = this.#tryAcquire(current().task, undefined);
    if (acquisition === null) throw new WouldBlock("Lock.acquireNowait() would block: the Lock is held by another task");
    return acquisition;
  }

  /**
   * Releases the lock, handing it to the first waiting task if there is one.
   * Throws if the calling task does not hold it. Disposing the `Disposable`
   * from `acquire()` does the same.
   *
   * @example
   * ```ts
   * import { Lock } from "@quartet/core";
   * const lock = new Lock();
   * await lock.acquire();
   * lock.release();
   * ```
   */
  release(): void {
    const task = current().task;
    const owner = this.#owner;
    if (owner !== task) {
      throw new Error(
        owner === null
          ? `Lock.release() was called by task ${describe(task.name)}, but the Lock is not held by any task`
          : `Lock.release() was called by task ${describe(task.name)}, but the Lock is held by task ${describe(owner.name)}`,
      );
    }
    const next = this.#lot.shift();
    if (next === null) {
      this.#owner = null;
      this.#acquisition = null;
      return;
    }
    this.#owner = next.task;
    this.#acquisition = next.value as Disposable;
    next.wake(this.#acquisition);
  }

  /**
   * Whether some task holds the lock.
   *
   * @example
   * ```ts
   * import { Lock } from "@quartet/core";
   * console.log(new Lock().locked()); // false
   * ```
   */
  locked(): boolean {
    return this.#owner !== null;
  }

  /**
   * Who holds the lock and how many tasks wait for it, as a frozen record.
   *
   * @example
   * ```ts
   * import { Lock } from "@quartet/core";
   * console.log(new Lock().statistics()); // { locked: false, owner: null, tasksWaiting: 0 }
   * ```
   */
  statistics(): LockStatistics {
    return Object.freeze({
      locked: this.#owner !== null,
      owner: this.#owner === null ? null : this.#owner.name,
      tasksWaiting: this.#lot.size,
    });
  }

  async #acquire(reuse: Disposable | undefined): Promise<Disposable> {
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) throw node.effective;
    const acquisition = this.#tryAcquire(context.task, reuse);
    if (acquisition === null) return this.#lot.park(context, reuse ?? this.#newAcquisition()).promise;
    const pause = node.runtime!.yieldIfDue();
    if (pause) await pause;
    return acquisition;
  }

  /** Takes the lock for `task` if it is free and nobody waits; `null` if that would block. */
  #tryAcquire(task: Task, reuse: Disposable | undefined): Disposable | null {
    // Code outside any task (the implicit root) is one "task" for every caller, so there a
    // second acquire() waits like anyone else's instead of being taken for a re-acquire.
    if (this.#owner === task && task.counted) {
      throw new Error(`task ${describe(task.name)} already holds this Lock; acquiring it again would deadlock`);
    }
    if (this.#owner !== null) return null;
    this.#owner = task;
    return (this.#acquisition = reuse ?? this.#newAcquisition());
  }

  #newAcquisition(): Disposable {
    const acquisition: Disposable = {
      [Symbol.dispose]: () => {
        if (this.#acquisition === acquisition) this.release();
      },
    };
    return acquisition;
  }
}
