/**
 * Capacity limiters: at most N tasks at once, each holding one token.
 *
 * @module
 */

import { current } from "../core/context.js";
import { WouldBlock } from "../core/errors.js";
import { ParkingLot } from "../core/parking-lot.js";
import type { Task } from "../core/task.js";
import { describe, nameOption, type NameOptions } from "../core/validate.js";

/**
 * What {@link CapacityLimiter.statistics} reports.
 *
 * @example
 * ```ts
 * import { CapacityLimiter, sleep, taskGroup } from "@quartet/core";
 * import { waitAllTasksBlocked } from "@quartet/testing";
 *
 * const limiter = new CapacityLimiter(2);
 * await taskGroup(async (tg) => {
 *   for (const name of ["a", "b", "c"]) {
 *     tg.spawn(async () => { using _ = await limiter.acquire(); await sleep(10); }, { name });
 *   }
 *   await waitAllTasksBlocked();
 *   const { borrowers, tasksWaiting } = limiter.statistics();
 *   console.log(borrowers, tasksWaiting); // ["a", "b"] 1
 * });
 * ```
 */
export interface CapacityLimiterStatistics {
  /** Tokens held now. */
  readonly borrowedTokens: number;
  /** The limit. */
  readonly totalTokens: number;
  /** The names of the tasks holding a token, in the order they got it. */
  readonly borrowers: readonly string[];
  /** Tasks blocked in `acquire()`. */
  readonly tasksWaiting: number;
}

/**
 * Limits how many tasks do something at once (trio's `CapacityLimiter`): a
 * pool of `totalTokens` tokens, of which each task may borrow one.
 *
 * Tokens belong to the task that borrowed them: a task cannot borrow a second
 * one, and a task that holds none cannot release one. That catches the usual
 * mistakes of a bare semaphore (releasing twice, releasing from the wrong task)
 * where they happen instead of as a slow leak. Fair: tasks get tokens in the
 * order they asked, and a freed token is handed straight to the first waiting
 * task. The limit can be changed at any time with `totalTokens`.
 *
 * @example
 * ```ts
 * import { CapacityLimiter, sleep, taskGroup } from "@quartet/core";
 * const downloads = new CapacityLimiter(3);
 * await taskGroup(async (tg) => {
 *   for (let i = 0; i < 10; i++) {
 *     tg.spawn(async () => {
 *       using _ = await downloads.acquire(); // at most three at a time in here
 *       await sleep(100);
 *     });
 *   }
 * });
 * ```
 */
export class CapacityLimiter {
  #total = 1;
  /**
   * The tokens lent, in the order they were lent: keyed by the borrowing task,
   * or, for code outside any task (the implicit root, which is one "task" for
   * every caller), by the acquisition itself, so that such callers each get a
   * token of their own.
   */
  readonly #borrowers = new Map<object, Borrowed>();
  /** Tasks waiting, each parked with the acquisition it will hold. Invariant: empty while a token is free. */
  readonly #lot: ParkingLot<Disposable>;

  /**
   * Makes a limiter with `total` tokens: an integer of at least 1, or `Infinity`.
   *
   * @example
   * ```ts
   * import { CapacityLimiter } from "@quartet/core";
   * const limiter = new CapacityLimiter(4);
   * console.log(limiter.availableTokens); // 4
   * ```
   */
  constructor(total: number, options?: NameOptions) {
    this.#lot = new ParkingLot({ operation: "acquire", object: "CapacityLimiter", name: nameOption(options, "CapacityLimiter") });
    this.totalTokens = total;
  }

  /**
   * The number of tokens. Settable at any time: raising it hands the new tokens
   * to waiting tasks at once, in the order they asked; lowering it below the
   * number borrowed takes none back, it only stops new borrowing until enough
   * have been released. Must be an integer of at least 1, or `Infinity`.
   *
   * @example
   * ```ts
   * import { CapacityLimiter } from "@quartet/core";
   * const limiter = new CapacityLimiter(1);
   * limiter.totalTokens = 8;
   * console.log(limiter.availableTokens); // 8
   * ```
   */
  get totalTokens(): number {
    return this.#total;
  }

  set totalTokens(total: number) {
    if (typeof total !== "number") throw new TypeError(`CapacityLimiter totalTokens must be a number; got ${describe(total)}`);
    if (!(Number.isSafeInteger(total) || total === Infinity) || total < 1) {
      throw new RangeError(`CapacityLimiter totalTokens must be an integer of at least 1, or Infinity; got ${total}`);
    }
    this.#total = total;
    this.#handOut();
  }

  /** The number of tokens held now. */
  get borrowedTokens(): number {
    return this.#borrowers.size;
  }

  /** `totalTokens - borrowedTokens`; negative while `totalTokens` has been lowered below what is borrowed, as in trio. */
  get availableTokens(): number {
    return this.#total - this.#borrowers.size;
  }

  /**
   * Borrows a token for the calling task, waiting while none is free; returns
   * a `Disposable` that gives it back (disposing it after the token was released
   * another way does nothing). A checkpoint: in a cancelled scope it throws
   * `Cancelled` without borrowing, and a task cancelled while waiting leaves the
   * queue holding nothing. Throws if the calling task already holds a token.
   *
   * @example
   * ```ts
   * import { CapacityLimiter } from "@quartet/core";
   * const limiter = new CapacityLimiter(2);
   * using _ = await limiter.acquire();
   * console.log(limiter.borrowedTokens); // 1
   * ```
   */
  async acquire(): Promise<Disposable> {
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) throw node.effective;
    const acquisition = this.#tryBorrow(context.task);
    if (acquisition === null) return this.#lot.park(context, this.#newAcquisition(context.task)).promise;
    const pause = node.runtime!.yieldIfDue();
    if (pause) await pause;
    return acquisition;
  }

  /**
   * Borrows a token if one is free now and nobody is queued; throws
   * `WouldBlock` otherwise, and an `Error` if the calling task already holds one.
   *
   * @example
   * ```ts
   * import { CapacityLimiter, WouldBlock } from "@quartet/core";
   * const limiter = new CapacityLimiter(1);
   * try {
   *   using _ = limiter.acquireNowait();
   * } catch (err) {
   *   if (!(err instanceof WouldBlock)) throw err;
   * }
   * ```
   */
  acquireNowait(): Disposable {
    const acquisition = this.#tryBorrow(current().task);
    if (acquisition === null) {
      throw new WouldBlock(`CapacityLimiter.acquireNowait() would block: all ${this.#total} tokens are borrowed`);
    }
    return acquisition;
  }

  /**
   * Gives back the calling task's token, handing it to the first waiting task
   * if there is one. Throws if the calling task holds no token.
   *
   * @example
   * ```ts
   * import { CapacityLimiter } from "@quartet/core";
   * const limiter = new CapacityLimiter(1);
   * await limiter.acquire();
   * limiter.release();
   * ```
   */
  release(): void {
    const task = current().task;
    const key = task.counted ? (this.#borrowers.has(task) ? task : undefined) : this.#anyKeyOf(task);
    if (key === undefined) {
      throw new Error(`CapacityLimiter.release() was called by task ${describe(task.name)}, which holds none of its tokens`);
    }
    this.#borrowers.delete(key);
    this.#handOut();
  }

  /**
   * The tokens, who holds them and how many tasks wait, as a frozen record.
   *
   * @example
   * ```ts
   * import { CapacityLimiter } from "@quartet/core";
   * const { borrowedTokens, totalTokens } = new CapacityLimiter(2).statistics();
   * console.log(borrowedTokens, totalTokens); // 0 2
   * ```
   */
  statistics(): CapacityLimiterStatistics {
    return Object.freeze({
      borrowedTokens: this.#borrowers.size,
      totalTokens: this.#total,
      borrowers: Object.freeze(Array.from(this.#borrowers.values(), ({ task }) => task.name)),
      tasksWaiting: this.#lot.size,
    });
  }

  /** Lends `task` a token if one is free; `null` if that would block. */
  #tryBorrow(task: Task): Disposable | null {
    if (this.#borrowers.has(task)) throw alreadyBorrowing(task);
    if (this.#borrowers.size >= this.#total) return null;
    const acquisition = this.#newAcquisition(task);
    this.#lend(task, acquisition);
    return acquisition;
  }

  #lend(task: Task, acquisition: Disposable): void {
    this.#borrowers.set(task.counted ? task : acquisition, { task, acquisition });
  }

  /** A token held by `task` (the implicit root), or `undefined`. */
  #anyKeyOf(task: Task): object | undefined {
    for (const [key, borrowed] of this.#borrowers) if (borrowed.task === task) return key;
    return undefined;
  }

  /** Hands free tokens to the waiting tasks, first come first served. */
  #handOut(): void {
    while (this.#borrowers.size < this.#total) {
      const next = this.#lot.shift();
      if (next === null) return;
      // A task that started two acquire()s at once gets its second one refused here.
      if (this.#borrowers.has(next.task)) {
        next.fail(alreadyBorrowing(next.task));
        continue;
      }
      const acquisition = next.value as Disposable;
      this.#lend(next.task, acquisition);
      next.wake(acquisition);
    }
  }

  #newAcquisition(task: Task): Disposable {
    const acquisition: Disposable = {
      [Symbol.dispose]: () => {
        if (this.#borrowers.get(task.counted ? task : acquisition)?.acquisition !== acquisition) return; // released already
        const caller = current().task;
        if (caller !== task) {
          throw new Error(`a CapacityLimiter token of task ${describe(task.name)} was disposed of by task ${describe(caller.name)}; a token belongs to the task that borrowed it`);
        }
        this.release();
      },
    };
    return acquisition;
  }
}

interface Borrowed {
  readonly task: Task;
  readonly acquisition: Disposable;
}

function alreadyBorrowing(task: Task): Error {
  return new Error(`task ${describe(task.name)} already holds a token of this CapacityLimiter; a task may hold only one`);
}
