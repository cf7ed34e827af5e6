/**
 * Condition variables: wait, with a lock released, until another task says
 * something changed.
 *
 * @module
 */

import { CancelScope } from "../cancel-scope.js";
import { current } from "../core/context.js";
import { ParkingLot } from "../core/parking-lot.js";
import { describe, nameOption, type NameOptions } from "../core/validate.js";
import { Lock, acquireAs, acquisitionHeldBy, lotOf, type LockStatistics } from "./lock.js";

/**
 * What {@link Condition.statistics} reports.
 *
 * @example
 * ```ts
 * import { Condition, taskGroup } from "@quartet/core";
 * import { waitAllTasksBlocked } from "@quartet/testing";
 *
 * const condition = new Condition();
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => { using _ = await condition.acquire(); await condition.wait(); });
 *   await waitAllTasksBlocked();
 *   const { tasksWaiting, lockStatistics } = condition.statistics();
 *   console.log(tasksWaiting, lockStatistics.locked); // 1 false: wait() let go of the lock
 *   using _ = await condition.acquire();
 *   condition.notify();
 * });
 * ```
 */
export interface ConditionStatistics {
  /** Tasks blocked in `wait()` that have not been notified yet. */
  readonly tasksWaiting: number;
  /** The statistics of the underlying lock. */
  readonly lockStatistics: LockStatistics;
}

/**
 * A condition variable (trio's `Condition`): a `Lock` plus a queue of tasks
 * waiting, with the lock released, for a change that another task announces
 * with `notify()`.
 *
 * Hold the lock to look at the shared state; if it is not what you need, call
 * `wait()`, which releases the lock, waits for a notification and gets the lock
 * back before it returns (or throws), so the state can be checked again. Check
 * in a loop: by the time a notified task has the lock, another may have changed
 * the state again. Notified tasks join the lock's queue and get the lock in
 * turn; fair, like the `Lock` itself.
 *
 * @example
 * ```ts
 * import { Condition, taskGroup } from "@quartet/core";
 * const changed = new Condition();
 * const items: string[] = [];
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     using _ = await changed.acquire();
 *     while (items.length === 0) await changed.wait();
 *     console.log("got", items.shift());
 *   });
 *   using _ = await changed.acquire();
 *   items.push("apple");
 *   changed.notify();
 * });
 * ```
 */
export class Condition {
  readonly #lock: Lock;
  /** Tasks in `wait()`, each parked with the acquisition of the lock it gave up; `notify` moves them to the lock's queue. */
  readonly #lot: ParkingLot<Disposable>;

  /**
   * Makes a condition over `lock`, or over a new `Lock` if none is given. Give
   * one lock to several conditions when they guard the same state.
   *
   * @example
   * ```ts
   * import { Condition, Lock } from "@quartet/core";
   * const lock = new Lock();
   * const notEmpty = new Condition(lock);
   * const notFull = new Condition(lock);
   * ```
   */
  constructor(lock?: Lock, options?: NameOptions) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(`Condition needs a Lock if given one; got ${describe(lock)}`);
    }
    this.#lot = new ParkingLot({ operation: "wait", object: "Condition", name: nameOption(options, "Condition") });
    this.#lock = lock ?? new Lock();
  }

  /** The lock that `acquire`, `release` and `wait` work on. */
  get lock(): Lock {
    return this.#lock;
  }

  /**
   * Acquires the underlying lock, as `Lock.acquire()` does.
   *
   * @example
   * ```ts
   * import { Condition } from "@quartet/core";
   * const condition = new Condition();
   * using _ = await condition.acquire();
   * ```
   */
  acquire(): Promise<Disposable> {
    return this.#lock.acquire();
  }

  /**
   * Acquires the underlying lock if that needs no waiting, as `Lock.acquireNowait()` does.
   *
   * @example
   * ```ts
   * import { Condition } from "@quartet/core";
   * const condition = new Condition();
   * using _ = condition.acquireNowait();
   * ```
   */
  acquireNowait(): Disposable {
    return this.#lock.acquireNowait();
  }

  /**
   * Releases the underlying lock, as `Lock.release()` does.
   *
   * @example
   * ```ts
   * import { Condition } from "@quartet/core";
   * const condition = new Condition();
   * await condition.acquire();
   * condition.release();
   * ```
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Whether some task holds the underlying lock.
   *
   * @example
   * ```ts
   * import { Condition } from "@quartet/core";
   * console.log(new Condition().locked()); // false
   * ```
   */
  locked(): boolean {
    return this.#lock.locked();
  }

  /**
   * Releases the lock, waits until another task calls `notify()` or
   * `notifyAll()`, then gets the lock back and returns. The calling task must
   * hold the lock. A checkpoint: in a cancelled scope it throws `Cancelled` at
   * once, keeping the lock; cancelled while waiting, it takes no notification,
   * gets the lock back (waiting for it in a shielded scope if need be) and then
   * throws, so the caller's cleanup always runs with the lock held.
   *
   * @example
   * ```ts
   * import { Condition, taskGroup } from "@quartet/core";
   * const condition = new Condition();
   * let ready = false;
   * await taskGroup(async (tg) => {
   *   tg.spawn(async () => {
   *     using _ = await condition.acquire();
   *     while (!ready) await condition.wait();
   *   });
   *   using _ = await condition.acquire();
   *   ready = true;
   *   condition.notifyAll();
   * });
   * ```
   */
  async wait(): Promise<void> {
    const context = current();
    context.task.checkpoints++;
    if (context.node.effective !== null) throw context.node.effective;
    const acquisition = this.#heldByCaller("wait");
    this.#lock.release();
    try {
      // Woken by the lock's release() once notify() has moved us to the lock's queue: we hold it again.
      await this.#lot.park(context, acquisition).promise;
    } catch (error) {
      await new CancelScope({ shield: true }).run(() => acquireAs(this.#lock, acquisition));
      throw error;
    }
  }

  /**
   * Wakes up to `n` waiting tasks (default 1), the ones that have waited
   * longest: they queue for the lock, which they get in turn once the calling
   * task releases it. The calling task must hold the lock.
   *
   * @example
   * ```ts
   * import { Condition } from "@quartet/core";
   * const condition = new Condition();
   * using _ = await condition.acquire();
   * condition.notify(2);
   * ```
   */
  notify(n = 1): void {
    if (typeof n !== "number") throw new TypeError(`Condition.notify() count must be a number; got ${describe(n)}`);
    if (Number.isNaN(n) || n < 0 || (n !== Infinity && !Number.isInteger(n))) {
      throw new RangeError(`Condition.notify() count must be a non-negative integer or Infinity; got ${n}`);
    }
    this.#heldByCaller("notify");
    this.#lot.moveTo(lotOf(this.#lock), n);
  }

  /**
   * Wakes every waiting task (see `notify`). The calling task must hold the lock.
   *
   * @example
   * ```ts
   * import { Condition } from "@quartet/core";
   * const condition = new Condition();
   * using _ = await condition.acquire();
   * condition.notifyAll();
   * ```
   */
  notifyAll(): void {
    this.#heldByCaller("notifyAll");
    this.#lot.moveTo(lotOf(this.#lock), this.#lot.size);
  }

  /**
   * How many tasks wait, and the lock's statistics, as a frozen record.
   *
   * @example
   * ```ts
   * import { Condition } from "@quartet/core";
   * console.log(new Condition().statistics().tasksWaiting); // 0
   * ```
   */
  statistics(): ConditionStatistics {
    return Object.freeze({ tasksWaiting: this.#lot.size, lockStatistics: this.#lock.statistics() });
  }

  /** The calling task's acquisition of the lock; throws if it does not hold the lock. */
  #heldByCaller(method: string): Disposable {
    const task = current().task;
    const acquisition = acquisitionHeldBy(this.#lock, task);
    if (acquisition === null) {
      throw new Error(`Condition.${method}() was called by task ${describe(task.name)}, which does not hold the Condition's lock`);
    }
    return acquisition;
  }
}
