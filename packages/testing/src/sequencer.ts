/**
 * Forcing an order between tasks in a test.
 *
 * @module
 */

import { checkpoint, isCancelled } from "@quartet/core";
import { parkCurrentTask, type ParkedTask } from "@quartet/core/lowlevel";

/**
 * Makes tasks take turns in a fixed order, as trio's `Sequencer` does: a task
 * that calls `step(n)` waits until the holder of step `n - 1` has released it;
 * step 0 goes first. Each position can be used once.
 *
 * If a task is cancelled while it waits for its turn, the sequence is broken:
 * that task and every other one waiting get an `Error` (a test should fail
 * loudly, not hang).
 *
 * @example
 * ```ts
 * import { taskGroup } from "@quartet/core";
 * import { Sequencer } from "@quartet/testing";
 *
 * const seq = new Sequencer();
 * const order: string[] = [];
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     await seq.run(1, () => order.push("second"));
 *   });
 *   tg.spawn(async () => {
 *     await seq.run(0, () => order.push("first"));
 *     await seq.run(2, () => order.push("third"));
 *   });
 * });
 * console.log(order); // ["first", "second", "third"]
 * ```
 */
export class Sequencer {
  /** Positions that may be entered now: 0, and every position after one that was released. */
  readonly #open = new Set<number>([0]);
  readonly #claimed = new Set<number>();
  readonly #waiting = new Map<number, ParkedTask<void>>();
  #broken = false;

  /**
   * Waits for the turn of `position`, then returns a `Disposable` whose disposal
   * ends the turn (use it with `using`). A checkpoint.
   */
  async step(position: number): Promise<Disposable> {
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new RangeError(`Sequencer position must be a non-negative integer; got ${String(position)}`);
    }
    if (this.#claimed.has(position)) throw new Error(`Sequencer position ${position} was already used; each position can be used once`);
    if (this.#broken) throw new Error("the Sequencer's sequence is broken (a task was cancelled while waiting for its turn)");
    this.#claimed.add(position);
    if (this.#open.has(position)) {
      await checkpoint();
    } else {
      const parked = parkCurrentTask<void>(() => this.#break(position));
      this.#waiting.set(position, parked);
      try {
        await parked.promise;
      } catch (error) {
        if (!isCancelled(error)) throw error; // broken by another task's cancellation
        throw new Error(`Sequencer wait for position ${position} was cancelled; the sequence is broken`, { cause: error });
      }
    }
    let released = false;
    return {
      [Symbol.dispose]: () => {
        if (released) return;
        released = true;
        this.#open.add(position + 1);
        this.#waiting.get(position + 1)?.wake();
        this.#waiting.delete(position + 1);
      },
    };
  }

  /** Runs `fn` in the turn of `position` and returns its result. */
  async run<T>(position: number, fn: () => Promise<T> | T): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`Sequencer.run() needs a function; got ${typeof fn}`);
    const turn = await this.step(position);
    try {
      return await fn();
    } finally {
      turn[Symbol.dispose]();
    }
  }

  #break(cancelledPosition: number): void {
    this.#broken = true;
    this.#waiting.delete(cancelledPosition);
    const broken = new Error("the Sequencer's sequence is broken (a task was cancelled while waiting for its turn)");
    for (const parked of this.#waiting.values()) parked.fail(broken);
    this.#waiting.clear();
  }
}
