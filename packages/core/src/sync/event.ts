/**
 * Events: a flag that tasks can wait for.
 *
 * @module
 */

import { checkpoint } from "../checkpoint.js";
import { current } from "../core/context.js";
import { nameOption, type NameOptions } from "../core/validate.js";
import { ParkingLot } from "../core/parking-lot.js";
import { SharedWaiter } from "../core/park.js";

/**
 * What {@link Event.statistics} reports.
 *
 * @example
 * ```ts
 * import { Event, taskGroup } from "@quartet/core";
 * import { waitAllTasksBlocked } from "@quartet/testing";
 *
 * const ready = new Event();
 * await taskGroup(async (tg) => {
 *   for (let i = 0; i < 3; i++) tg.spawn(() => ready.wait());
 *   await waitAllTasksBlocked();
 *   console.log(ready.statistics().tasksWaiting); // 3
 *   ready.set();
 * });
 * ```
 */
export interface EventStatistics {
  /** Tasks blocked in `wait()`. */
  readonly tasksWaiting: number;
}

/**
 * A one-shot flag (trio's `Event`): it starts unset, `set()` sets it for good
 * and wakes every task blocked in `wait()`. There is no `clear()`: a flag that
 * can be unset again makes waiters miss wake-ups (trio removed it for that
 * reason); make a new `Event` for each occurrence instead.
 *
 * @example
 * ```ts
 * import { Event, sleep, taskGroup } from "@quartet/core";
 * const ready = new Event();
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     await ready.wait();
 *     console.log("go");
 *   });
 *   await sleep(10);
 *   ready.set();
 * });
 * ```
 */
export class Event {
  #flag = false;
  /** The tasks blocked in `wait()`. Invariant: empty whenever the flag is set. */
  readonly #lot: ParkingLot;

  /**
   * Makes an event that is not set; `name` shows in the task tree.
   *
   * @example
   * ```ts
   * import { Event } from "@quartet/core";
   * const ready = new Event({ name: "config loaded" });
   * console.log(ready.isSet()); // false
   * ```
   */
  constructor(options?: NameOptions) {
    this.#lot = new ParkingLot({ operation: "wait", object: "Event", name: nameOption(options, "Event") });
  }

  /**
   * Sets the flag and wakes every waiting task, in the order they started
   * waiting. Setting an event that is already set does nothing.
   *
   * @example
   * ```ts
   * import { Event } from "@quartet/core";
   * const done = new Event();
   * done.set();
   * console.log(done.isSet()); // true
   * ```
   */
  set(): void {
    if (this.#flag) return;
    this.#flag = true;
    this.#lot.wakeAll();
  }

  /**
   * Whether `set()` has been called.
   *
   * @example
   * ```ts
   * import { Event } from "@quartet/core";
   * console.log(new Event().isSet()); // false
   * ```
   */
  isSet(): boolean {
    return this.#flag;
  }

  /**
   * Waits until the event is set; on an event that is already set, returns
   * after a checkpoint. A checkpoint either way: throws `Cancelled` at once in
   * a cancelled scope, and as soon as the scope is cancelled while waiting.
   *
   * @example
   * ```ts
   * import { Event, moveOnAfter } from "@quartet/core";
   * const never = new Event();
   * await moveOnAfter(100, () => never.wait()); // gives up after 100 ms
   * ```
   */
  wait(): Promise<void> {
    // Not an async function: a task blocked here should cost as little memory as possible.
    if (this.#flag) return checkpoint();
    const context = current();
    context.task.checkpoints++;
    const node = context.node;
    if (node.effective !== null) return Promise.reject(node.effective);
    // Tasks of one node that wait one after another share a waiter: a blocked task then costs
    // little more than its own await. (Not with debugging on: each task records its own call site.)
    const last = this.#lot.last;
    if (last instanceof SharedWaiter && last.node === node && !node.runtime!.debug) {
      last.join(context);
      return last.promise;
    }
    return this.#lot.parkShared(context).promise;
  }

  /**
   * How many tasks are waiting, as a frozen record.
   *
   * @example
   * ```ts
   * import { Event } from "@quartet/core";
   * console.log(new Event().statistics()); // { tasksWaiting: 0 }
   * ```
   */
  statistics(): EventStatistics {
    let tasksWaiting = 0;
    for (const waiter of this.#lot) tasksWaiting += (waiter as SharedWaiter).size;
    return Object.freeze({ tasksWaiting });
  }
}
