/**
 * Reading the runtime clock.
 *
 * @module
 */

import { current } from "./core/context.js";

/**
 * The current time, in milliseconds, on the clock of the current run (the
 * system's monotonic clock unless `run()` was given another). Deadlines are
 * absolute times on this clock.
 *
 * @example
 * ```ts
 * import { CancelScope, now } from "@quartet/core";
 * const scope = new CancelScope({ deadline: now() + 1000 });
 * ```
 */
export function now(): number {
  return current().node.runtime!.now();
}

/**
 * The deadline that applies to the calling code: the earliest deadline of the
 * enclosing cancel scopes up to the nearest shield; `Infinity` if none, and
 * `-Infinity` if the code is already (effectively) cancelled.
 *
 * @example
 * ```ts
 * import { currentEffectiveDeadline, moveOnAfter, now } from "@quartet/core";
 * await moveOnAfter(100, async () => {
 *   console.log(currentEffectiveDeadline() - now()); // about 100
 * });
 * ```
 */
export function currentEffectiveDeadline(): number {
  return current().node.effectiveDeadline();
}
