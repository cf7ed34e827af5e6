/**
 * Timeouts: cancel scopes with a deadline, in the four shapes trio has.
 *
 * @module
 */

import { CancelScope } from "./cancel-scope.js";
import { current } from "./core/context.js";
import { TimeoutError } from "./core/errors.js";
import { requireBoolean, requireDeadline, requireDuration, requireFunction, requireOptionalObject } from "./core/validate.js";

/** Options of the timeout functions. */
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

/** Like {@link moveOnAfter}, with an absolute deadline on the runtime clock (see `now()`). */
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
 * and throws {@link TimeoutError} if the scope had to cut the body short.
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

/** Like {@link failAfter}, with an absolute deadline on the runtime clock (see `now()`). */
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
