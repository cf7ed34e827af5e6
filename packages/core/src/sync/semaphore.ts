/**
 * Semaphores: a counter of permits that tasks wait for.
 *
 * @module
 */

import { current } from "../core/context.js";
import { WouldBlock } from "../core/errors.js";
import { ParkingLot } from "../core/parking-lot.js";
import { describe, nameOption, requireOptionalObject, type NameOptions } from "../core/validate.js";

/**
 * Options of the `Semaphore` constructor.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@quartet/core";
 *
 * const permits = new Semaphore(2, { max: 2 });
 * {
 *   using _ = await permits.acquire();
 * } // gives the unit back: the value is 2 again
 * try {
 *   permits.release(); // one release too many
 * } catch (err) {
 *   console.log((err as Error).message); // "Semaphore.release() would raise the value above its max of 2: …"
 * }
 * ```
 */
export interface SemaphoreOptions extends NameOptions {
  /** The highest the value may go; a `release()` beyond it throws. An integer no less than the initial value, or `Infinity` (the default). */
  max?: number;
}

/**
 * What {@link Semaphore.statistics} reports.
 *
 * @example
 * ```ts
 * import { Semaphore, taskGroup } from "@quartet/core";
 * import { waitAllTasksBlocked } from "@quartet/testing";
 *
 * const permits = new Semaphore(0);
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => { using _ = await permits.acquire(); });
 *   await waitAllTasksBlocked();
 *   console.log(permits.statistics().tasksWaiting); // 1
 *   permits.release(); // hands the unit to the waiting task
 * });
 * ```
 */
export interface SemaphoreStatistics {
  /** Tasks blocked in `acquire()`. */
  readonly tasksWaiting: number;
}

/**
 * A counting semaphore (trio's `Semaphore`): `acquire()` takes one unit of
 * `value`, waiting while it is 0, and `release()` gives one back.
 *
 * Unlike a `Lock`, a semaphore belongs to no task: any task may release it,
 * which makes it the tool for handing permission from one task to another. To
 * limit how many tasks do something at once, a `CapacityLimiter` is usually
 * the better fit, because it catches a task that releases what it never took.
 *
 * Fair: tasks get units in the order they asked, and `release()` hands its unit
 * straight to the first waiting task instead of raising `value`, so a newcomer
 * cannot take it first. An optional `max` catches a `release()` without a
 * matching `acquire()`.
 *
 * @example
 * ```ts
 * import { Semaphore, sleep, taskGroup } from "@quartet/core";
 * const slots = new Semaphore(2);
 * await taskGroup(async (tg) => {
 *   for (let i = 0; i < 5; i++) {
 *     tg.spawn(async () => {
 *       using _ = await slots.acquire(); // at most two at a time in here
 *       await sleep(10);
 *     });
 *   }
 * });
 * ```
 */
export class Semaphore {
  /** Units available now. Invariant: the lot is empty whenever this is above 0. */
  #value: number;
  readonly #max: number;
  readonly #lot: ParkingLot;

  /**
   * Makes a semaphore whose value starts at `initial`, a non-negative integer.
   * With `max`, `release()` throws instead of raising the value above it.
   *
   * @example
   * ```ts
   * import { Semaphore } from "@quartet/core";
   * const binary = new Semaphore(1, { max: 1 });
   * console.log(binary.value, binary.max); // 1 1
   * ```
   */
  constructor(initial: number, options?: SemaphoreOptions) {
    if (typeof initial !== "number") throw new TypeError(`Semaphore initial value must be a number; got ${describe(initial)}`);
    if (!Number.isSafeInteger(initial) || initial < 0) {
      throw new RangeError(`Semaphore initial value must be a non-negative integer; got ${initial}`);
    }
    requireOptionalObject(options, "Semaphore options");
    const max = options?.max === undefined ? Infinity : options.max;
    if (typeof max !== "number") throw new TypeError(`Semaphore max must be a number; got ${describe(max)}`);
    if ((max !== Infinity && !Number.isSafeInteger(max)) || max < initial) {
      throw new RangeError(`Semaphore max must be an integer no less than the initial value ${initial}, or Infinity; got ${max}`);
    }
    this.#value = initial;
    this.#max = max;
    this.#lot = new ParkingLot({ operation: "acquire", object: "Semaphore", name: nameOption(options, "Semaphore") });
  }

  /** The number of units available now. */
  get value(): number {
    return this.#value;
  }

  /** The highest `value` may reach; `Infinity` if none was given. */
  get max(): number {
    return this.#max;
  }

  /**
   * Takes one unit, waiting while there is none; returns a `Disposable` that
   * gives it back (once, however often it is disposed). A checkpoint: in a
   * cancelled scope it throws `Cancelled` without taking anything, and a task
   * cancelled while waiting leaves the queue having taken nothing.
   *
   * @example
   * ```ts
   * import { Semaphore } from "@quartet/core";
   * const permits = new Semaphore(1);
   * {
   *   using _ = await permits.acquire();
   *   console.log(permits.value); // 0
   * }
   * console.log(permits.value); // 1
   * ```
   */
  async acquire(): Promise<Disposable> {
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) throw node.effective;
    if (this.#value === 0) {
      await this.#lot.park(context).promise; // the releaser handed its unit to us
    } else {
      this.#value--;
      const pause = node.runtime!.yieldIfDue();
      if (pause) await pause;
    }
    return this.#releaser();
  }

  /**
   * Takes one unit if one is available now; throws `WouldBlock` otherwise.
   *
   * @example
   * ```ts
   * import { Semaphore, WouldBlock } from "@quartet/core";
   * const permits = new Semaphore(0);
   * try {
   *   permits.acquireNowait();
   * } catch (err) {
   *   console.log(err instanceof WouldBlock); // true
   * }
   * ```
   */
  acquireNowait(): Disposable {
    if (this.#value === 0) throw new WouldBlock("Semaphore.acquireNowait() would block: the value is 0");
    this.#value--;
    return this.#releaser();
  }

  /**
   * Gives back one unit: hands it to the first waiting task if there is one,
   * else raises `value`. Throws if `value` is already at `max`, which means the
   * semaphore was released more often than it was acquired. Any task may call it.
   *
   * @example
   * ```ts
   * import { Semaphore } from "@quartet/core";
   * const permits = new Semaphore(0);
   * permits.release();
   * console.log(permits.value); // 1
   * ```
   */
  release(): void {
    if (this.#value === this.#max) {
      throw new Error(`Semaphore.release() would raise the value above its max of ${this.#max}: the semaphore was released too many times`);
    }
    if (!this.#lot.wakeFirst()) this.#value++;
  }

  /**
   * How many tasks wait, as a frozen record.
   *
   * @example
   * ```ts
   * import { Semaphore } from "@quartet/core";
   * console.log(new Semaphore(1).statistics()); // { tasksWaiting: 0 }
   * ```
   */
  statistics(): SemaphoreStatistics {
    return Object.freeze({ tasksWaiting: this.#lot.size });
  }

  #releaser(): Disposable {
    let released = false;
    return {
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        this.release();
      },
    };
  }
}
