/**
 * Waiting until every other task is blocked.
 *
 * @module
 */

import { currentRunHooks, parkCurrentTask } from "@quartet/core/lowlevel";

/**
 * Resolves once every task of the current run (the caller included, which is
 * blocked in this call) is blocked in a Quartet operation, and has stayed so for
 * `cushion` real milliseconds. A task that is running, ready to run, or awaiting
 * a foreign promise keeps it from resolving. A checkpoint: cancellation of the
 * calling scope ends the wait with `Cancelled`.
 *
 * Use it to let the system under test settle before checking on it, without
 * guessing a sleep.
 *
 * @example
 * ```ts
 * import { sleepForever, taskGroup } from "@quartet/core";
 * import { waitAllTasksBlocked } from "@quartet/testing";
 *
 * await taskGroup(async (tg) => {
 *   let ready = false;
 *   tg.spawn(async () => {
 *     ready = true;
 *     await sleepForever();
 *   });
 *   await waitAllTasksBlocked();
 *   console.log(ready); // true: the child has run up to its sleep
 *   tg.cancelScope.cancel();
 * });
 * ```
 */
export async function waitAllTasksBlocked(cushion = 0): Promise<void> {
  if (typeof cushion !== "number") throw new TypeError(`waitAllTasksBlocked() cushion must be a number of milliseconds; got ${typeof cushion}`);
  if (!(cushion >= 0 && cushion < Infinity)) {
    throw new RangeError(`waitAllTasksBlocked() cushion must be a finite, non-negative number of milliseconds; got ${cushion}`);
  }
  let withdraw = (): void => {};
  const parked = parkCurrentTask<void>(() => withdraw());
  withdraw = currentRunHooks().whenIdle(() => parked.wake(), cushion);
  return parked.promise;
}
