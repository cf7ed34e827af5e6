/**
 * `map` and `forEach`: run a function on every item of an iterable or async
 * iterable with at most `concurrency` calls in flight — p-map's job, with the
 * guarantees of a task group.
 *
 * They are built on `taskGroup`: a pool of worker tasks, grown one at a time
 * (a worker that takes an item starts the next worker, until there are
 * `concurrency` of them), each taking the next item only when it is free. So
 * the input is pulled only as slots free up, an infinite async iterable works,
 * and the first failure cancels the calls in flight and stops the pulling.
 *
 * @module
 */

import { CONCURRENT_NEXT } from "./channel.js";
import { describe, requireFunction, requireOptionalName, requireOptionalObject } from "./core/validate.js";
import { Lock } from "./sync/lock.js";
import { taskGroup, type TaskGroup } from "./task-group.js";

/**
 * Options of `map` and `forEach`.
 *
 * @example
 * ```ts
 * import { forEach, type MapOptions } from "@quartet/core";
 *
 * const options: MapOptions = { concurrency: 4, name: "thumbnails" };
 * await forEach(["a.png", "b.png"], async (file) => console.log("resizing", file), options);
 * ```
 */
export interface MapOptions {
  /** How many calls may be in flight at once: a positive integer or `Infinity` (the default). */
  concurrency?: number;
  /** A name for the task group that runs the calls, shown in the task tree. */
  name?: string;
}

/**
 * What `map` and `forEach` accept as input: any iterable or async iterable (a
 * channel's receive end is one).
 *
 * @example
 * ```ts
 * import { forEach, type MapInput } from "@quartet/core";
 *
 * async function* pages(): AsyncGenerator<number> {
 *   for (let page = 1; page <= 3; page++) yield page; // read lazily, as workers free up
 * }
 * const inputs: MapInput<number>[] = [[1, 2, 3], new Set([4, 5]), pages()];
 * for (const input of inputs) await forEach(input, (n) => console.log(n), { concurrency: 2 });
 * ```
 */
export type MapInput<T> = Iterable<T> | AsyncIterable<T>;

/**
 * Calls `fn(item, index)` on every item of `items` with at most `concurrency`
 * calls in flight, and resolves with the results in input order, like
 * `Promise.all(items.map(fn))` with a limit — but structured: each call runs
 * as part of a task group, so the first failure (of a call, or of the input
 * iterable) cancels the calls in flight and stops pulling the input, and is
 * thrown as it is once their cleanup has finished. Nothing is left running
 * when `map` returns or throws. (If other calls fail too while unwinding, all
 * the failures are thrown together as a `TaskGroupError`, as `taskGroup` does.)
 *
 * `items` is pulled only as slots free up, so an infinite async iterable
 * works (with `forEach`, which does not keep results). When `map` stops early
 * it closes the input's iterator (`return()`), as `for await` does; a channel's
 * receive end is not closed by that.
 *
 * @example
 * ```ts
 * import { map, sleep } from "@quartet/core";
 *
 * const lengths = await map(
 *   ["alpha", "beta", "gamma"],
 *   async (word) => {
 *     await sleep(10); // stands for real work: a fetch, a query
 *     return word.length;
 *   },
 *   { concurrency: 2 },
 * );
 * console.log(lengths); // [5, 4, 5]
 * ```
 *
 * @throws `TypeError` if `items` is not iterable or `fn` not a function; `RangeError` for a bad `concurrency`.
 */
export async function map<T, R>(items: MapInput<T>, fn: (item: T, index: number) => Promise<R> | R, options?: MapOptions): Promise<R[]> {
  const results: R[] = [];
  await runPool("map()", items, fn, options, results);
  return results;
}

/**
 * Calls `fn(item, index)` on every item of `items` with at most `concurrency`
 * calls in flight, as `map` does, without keeping the results: the way to run
 * a pool of workers over an endless input. A channel's receive end is an
 * async iterable, so `forEach(jobs, handle, { concurrency: 8 })` is a worker
 * pool that ends when the channel does. The first failure cancels the calls in
 * flight and stops pulling, and is thrown as it is after their cleanup.
 *
 * @example
 * ```ts
 * import { forEach, openMemoryChannel, taskGroup } from "@quartet/core";
 *
 * const [send, jobs] = openMemoryChannel<number>(10, { name: "jobs" });
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     using tx = send; // closing it ends the pool once the jobs are done
 *     for (let i = 0; i < 5; i++) await tx.send(i);
 *   });
 *   await forEach(jobs, async (job) => console.log("job", job), { concurrency: 3 });
 * });
 * ```
 *
 * @throws `TypeError` if `items` is not iterable or `fn` not a function; `RangeError` for a bad `concurrency`.
 */
export async function forEach<T>(items: MapInput<T>, fn: (item: T, index: number) => unknown, options?: MapOptions): Promise<void> {
  await runPool("forEach()", items, fn, options, null);
}

// ------------------------------------------------------------------- the pool

async function runPool<T, R>(
  what: string,
  items: MapInput<T>,
  fn: (item: T, index: number) => Promise<R> | R,
  options: MapOptions | undefined,
  results: R[] | null,
): Promise<void> {
  requireFunction(fn, `${what} fn`);
  requireOptionalObject(options, `${what} options`);
  const concurrency = options?.concurrency ?? Infinity;
  if (typeof concurrency !== "number") throw new TypeError(`${what} concurrency must be a number; got ${describe(concurrency)}`);
  if (concurrency !== Infinity && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(`${what} concurrency must be a positive integer or Infinity; got ${concurrency}`);
  }
  requireOptionalName(options?.name, `${what} name`);
  const input = new Input(what, items, options?.name);
  let workers = 0;
  const worker = async (tg: TaskGroup): Promise<void> => {
    for (;;) {
      const next = await input.next();
      if (next === null) return;
      // The item is taken: if a slot is still free, the next worker starts pulling now.
      if (workers < concurrency && !input.exhausted) startWorker(tg);
      const result = await fn(next.item, next.index);
      if (results !== null) results[next.index] = result;
    }
  };
  const startWorker = (tg: TaskGroup): void => {
    workers++;
    tg.spawn(() => worker(tg), { name: `${what} worker ${workers}` });
  };
  try {
    await taskGroup((tg) => startWorker(tg), { name: options?.name ?? what });
  } catch (error) {
    await input.close();
    throw error;
  }
}

/**
 * The input, pulled by the workers one at a time (an async iterator is never
 * asked for its next value while a call to `next()` is still pending, as
 * `for await` never does), with the index of each item.
 */
class Input<T> {
  exhausted = false;
  readonly #iterator: Iterator<T> | AsyncIterator<T>;
  readonly #async: boolean;
  /** Taken by the worker that pulls an async iterator; null for a sync one or a Quartet channel, which need none. */
  readonly #turn: Lock | null;
  #index = 0;

  constructor(what: string, items: MapInput<T>, name: string | undefined) {
    const asyncIterator = items === null || items === undefined ? undefined : (items as Partial<AsyncIterable<T>>)[Symbol.asyncIterator];
    const syncIterator = items === null || items === undefined ? undefined : (items as Partial<Iterable<T>>)[Symbol.iterator];
    if (typeof asyncIterator === "function") {
      this.#iterator = asyncIterator.call(items);
      this.#async = true;
    } else if (typeof syncIterator === "function") {
      this.#iterator = syncIterator.call(items);
      this.#async = false;
    } else {
      if (items instanceof Promise) items.then(undefined, () => {}); // its rejection is not the error to report
      const hint = items instanceof Promise ? " (a Promise: await it first)" : "";
      throw new TypeError(`${what} items must be an iterable or async iterable; got ${describe(items)}${hint}`);
    }
    // A Quartet channel's receivers queue in order: workers can wait on it together, without a lock.
    const concurrent = (items as { [CONCURRENT_NEXT]?: boolean })[CONCURRENT_NEXT] === true;
    this.#turn = this.#async && !concurrent ? new Lock({ name: `${name ?? what} input` }) : null;
  }

  /** The next item and its index, or null once the input is exhausted. */
  async next(): Promise<{ item: T; index: number } | null> {
    if (this.exhausted) return null;
    if (!this.#async) return this.#took(this.#pullNow());
    if (this.#turn === null) return this.#took(await this.#pull());
    using _ = await this.#turn.acquire();
    if (this.exhausted) return null;
    return this.#took(await this.#pull());
  }

  /**
   * The iterator's next step; an iterator that throws is done (`close()` does
   * not call its `return()`, as `for await` would not). `#pullNow` for a sync
   * iterator, `#pull` for an async one.
   */
  #pullNow(): IteratorResult<T> {
    try {
      return (this.#iterator as Iterator<T>).next();
    } catch (error) {
      this.exhausted = true;
      throw error;
    }
  }

  async #pull(): Promise<IteratorResult<T>> {
    try {
      return await this.#iterator.next();
    } catch (error) {
      this.exhausted = true;
      throw error;
    }
  }

  #took(step: IteratorResult<T>): { item: T; index: number } | null {
    if (step.done) {
      this.exhausted = true;
      return null;
    }
    return { item: step.value, index: this.#index++ };
  }

  /**
   * The pool stopped early: close the iterator, as `for await` does when its
   * body throws (an error from `return()` then gives way to the one thrown).
   */
  async close(): Promise<void> {
    if (this.exhausted) return;
    this.exhausted = true;
    try {
      await this.#iterator.return?.();
    } catch {
      // The pool's own error is the one to report.
    }
  }
}
