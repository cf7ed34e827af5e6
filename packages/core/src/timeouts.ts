/**
 * Timeouts: cancel scopes with a deadline, in the four shapes trio has.
 *
 * @module
 */

import { CancelScope } from "./cancel-scope.js";
import { current } from "./core/context.js";
import { TimeoutError } from "./core/errors.js";
import { requireBoolean, requireDeadline, requireDuration, requireFunction, requireOptionalObject } from "./core/validate.js";

/**
 * Options of the timeout functions.
 *
 * @example
 * ```ts
 * import { moveOnAfter, sleep, sleepForever } from "@quartet/core";
 *
 * await moveOnAfter(100, async () => {
 *   try {
 *     await sleepForever();
 *   } finally {
 *     // The deadline has passed; the shield lets this cleanup run anyway, for at most 1 s.
 *     await moveOnAfter(1000, () => sleep(10), { shield: true });
 *     console.log("cleaned up");
 *   }
 * });
 * ```
 */
export interface TimeoutOptions {
  /** Also keep cancellation from outside out of the body (for cleanup that must run to the end). Default `false`. */
  shield?: boolean;
}

/**
 * Runs `body` in a new cancel scope whose deadline is `ms` milliseconds from now.
 * Returns the body's result, or `undefined` if the deadline passed (or the scope
 * was cancelled) and the body was cut short.
 *
 * @example
 * ```ts
 * import { moveOnAfter, sleep } from "@quartet/core";
 * const value = await moveOnAfter(10, async () => {
 *   await sleep(1000);
 *   return "slow";
 * });
 * console.log(value); // undefined
 * ```
 */
export function moveOnAfter<T>(
  ms: number,
  body: (scope: CancelScope) => Promise<T> | T,
  options?: TimeoutOptions,
): Promise<T | undefined> {
  // Not an async function (a scope per call is the common case; its cost is the point).
  try {
    requireDuration(ms, "moveOnAfter() duration");
    return scopeFor(current().node.runtime!.now() + ms, "moveOnAfter()", body, options).run(body);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Like {@link moveOnAfter}, with an absolute deadline on the runtime clock (see `now()`).
 *
 * @example
 * ```ts
 * import { moveOnAt, now, sleep } from "@quartet/core";
 *
 * const deadline = now() + 100; // one deadline for both steps
 * const first = await moveOnAt(deadline, async () => { await sleep(30); return "first"; });
 * const second = await moveOnAt(deadline, async () => { await sleep(1000); return "second"; });
 * console.log(first, second); // first undefined
 * ```
 */
export function moveOnAt<T>(
  deadline: number,
  body: (scope: CancelScope) => Promise<T> | T,
  options?: TimeoutOptions,
): Promise<T | undefined> {
  try {
    requireDeadline(deadline, "moveOnAt() deadline");
    return scopeFor(deadline, "moveOnAt()", body, options).run(body);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Runs `body` in a new cancel scope whose deadline is `ms` milliseconds from now,
 * and throws {@link TimeoutError} if the scope had to cut the body short: if it
 * caught a cancellation, as trio's `fail_after` does — its deadline passed, or
 * the body cancelled the scope it was given.
 *
 * @example
 * ```ts
 * import { failAfter, TimeoutError } from "@quartet/core";
 * try {
 *   await failAfter(5000, () => fetch("https://example.com"));
 * } catch (err) {
 *   if (err instanceof TimeoutError) console.log("too slow");
 * }
 * ```
 */
export async function failAfter<T>(ms: number, body: (scope: CancelScope) => Promise<T> | T, options?: TimeoutOptions): Promise<T> {
  requireDuration(ms, "failAfter() duration");
  return failing(scopeFor(current().node.runtime!.now() + ms, "failAfter()", body, options), body, `failAfter(${ms}) timed out`);
}

/**
 * Like {@link failAfter}, with an absolute deadline on the runtime clock (see `now()`).
 *
 * @example
 * ```ts
 * import { TimeoutError, failAt, now, sleep } from "@quartet/core";
 *
 * const deadline = now() + 100; // one deadline for both steps
 * try {
 *   await failAt(deadline, () => sleep(30)); // in time
 *   await failAt(deadline, () => sleep(1000)); // cut short at the deadline
 * } catch (err) {
 *   if (!(err instanceof TimeoutError)) throw err;
 *   console.log("out of time");
 * }
 * ```
 */
export async function failAt<T>(deadline: number, body: (scope: CancelScope) => Promise<T> | T, options?: TimeoutOptions): Promise<T> {
  requireDeadline(deadline, "failAt() deadline");
  return failing(scopeFor(deadline, "failAt()", body, options), body, `failAt(${deadline}) timed out`);
}

function scopeFor(deadline: number, what: string, body: unknown, options: TimeoutOptions | undefined): CancelScope {
  if (typeof body !== "function") requireFunction(body, `${what} body`);
  if (options === undefined) return new CancelScope({ deadline });
  requireOptionalObject(options, `${what} options`);
  const shield = options.shield;
  if (shield !== undefined) requireBoolean(shield, `${what} shield option`);
  return new CancelScope({ deadline, shield: shield ?? false });
}

async function failing<T>(scope: CancelScope, body: (scope: CancelScope) => Promise<T> | T, message: string): Promise<T> {
  const result = await scope.run(body);
  if (scope.cancelledCaught) throw new TimeoutError(message);
  return result as T;
}
