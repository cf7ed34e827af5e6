/**
 * Structured versions of `Promise.all` and `Promise.race`, built on `taskGroup`.
 *
 * @module
 */

import { isCancelled } from "./core/errors.js";
import { describe } from "./core/validate.js";
import { taskGroup } from "./task-group.js";

/**
 * Runs every function as a task and resolves with their results in input order,
 * like `Promise.all`, but structured: the first failure cancels the others,
 * waits for their cleanup, and is then thrown as it is. (If other tasks fail
 * too while unwinding, their failures are not dropped: all of them are thrown
 * together as a `TaskGroupError`, as `taskGroup` does.)
 *
 * @example
 * ```ts
 * import { all, sleep } from "@quartet/core";
 * const [a, b] = await all([
 *   async () => { await sleep(20); return 1; },
 *   async () => { await sleep(10); return 2; },
 * ]);
 * console.log(a + b); // 3
 * ```
 *
 * @typeParam F - The functions, as a tuple: the result keeps the type of each position.
 * @typeParam T - The functions' common result type, when they come as an array.
 */
export function all<const F extends readonly (() => unknown)[] | []>(
  fns: F,
): Promise<{ -readonly [K in keyof F]: F[K] extends () => infer R ? Awaited<R> : never }>;
export function all<T>(fns: ReadonlyArray<() => Promise<T> | T>): Promise<T[]>;
export async function all<T>(fns: ReadonlyArray<() => Promise<T> | T>): Promise<T[]> {
  requireFunctions(fns, "all()");
  const results = new Array<T>(fns.length);
  await taskGroup(async (tg) => {
    fns.forEach((fn, i) => {
      tg.spawn(async () => {
        results[i] = await fn();
      }, { name: fn.name || `all()[${i}]` });
    });
  });
  return results;
}

/**
 * Runs every function as a task; the first to return or throw decides the
 * outcome, like `Promise.race`. The others are then cancelled, and `race`
 * settles only after their cleanup has finished. A `Cancelled` from a function
 * never decides the race. If a cancelled function fails with an error of its
 * own while unwinding, that failure is not dropped: it is thrown (with the
 * winner's error, if the winner threw, as a `TaskGroupError`).
 *
 * @example
 * ```ts
 * import { race, sleep } from "@quartet/core";
 * const winner = await race([
 *   async () => { await sleep(50); return "slow"; },
 *   async () => { await sleep(10); return "fast"; },
 * ]);
 * console.log(winner); // "fast"
 * ```
 *
 * @typeParam F - The functions, as a tuple: the result is the union of their results.
 * @typeParam T - The functions' common result type, when they come as an array.
 */
export function race<const F extends readonly (() => unknown)[] | []>(fns: F): Promise<F[number] extends () => infer R ? Awaited<R> : never>;
export function race<T>(fns: ReadonlyArray<() => Promise<T> | T>): Promise<T>;
export async function race<T>(fns: ReadonlyArray<() => Promise<T> | T>): Promise<T> {
  requireFunctions(fns, "race()");
  if (fns.length === 0) throw new TypeError("race() needs at least one function; got an empty array (it would never settle)");
  let decided = false;
  let value: T | undefined;
  await taskGroup(async (tg) => {
    fns.forEach((fn, i) => {
      tg.spawn(async () => {
        let result: T;
        try {
          result = await fn();
        } catch (error) {
          // A failure decides the race only if it is not the cancellation of the
          // race itself; rethrowing lets the group cancel the rest and report it.
          if (!decided && !isCancelled(error)) decided = true;
          throw error;
        }
        if (decided) return;
        decided = true;
        value = result;
        tg.cancelScope.cancel("race() decided");
      }, { name: fn.name || `race()[${i}]` });
    });
  });
  return value as T;
}

function requireFunctions(fns: unknown, what: string): asserts fns is ReadonlyArray<() => unknown> {
  if (!Array.isArray(fns)) throw new TypeError(`${what} needs an array of functions; got ${describe(fns)}`);
  const bad = fns.findIndex((fn) => typeof fn !== "function");
  if (bad < 0) return;
  // all([a(), b()]) instead of all([a, b]): the promises already run outside any task. Mark
  // every one handled, so that their later rejections do not kill the process on top of this.
  for (const fn of fns) if (fn instanceof Promise) fn.then(undefined, ignore);
  const hint = fns[bad] instanceof Promise ? " (already running work: pass functions that start it, such as () => work())" : "";
  throw new TypeError(`${what} needs an array of functions; element ${bad} is ${describe(fns[bad])}${hint}`);
}

function ignore(): void {}
