/**
 * Sleeping on the runtime clock.
 *
 * @module
 */

import { current } from "./core/context.js";
import { SLEEPING, SleepWaiter, Waiter } from "./core/park.js";
import { requireDeadline, requireDuration } from "./core/validate.js";

/**
 * Waits `ms` milliseconds on the runtime clock. A checkpoint: throws `Cancelled`
 * as soon as the calling code's scope is cancelled. `sleep(0)` is a checkpoint;
 * `sleep(Infinity)` sleeps until cancelled.
 *
 * @example
 * ```ts
 * import { sleep } from "@quartet/core";
 * await sleep(250);
 * ```
 */
export async function sleep(ms: number): Promise<void> {
  requireDuration(ms, "sleep() duration");
  return sleepNode(current().node.runtime!.now() + ms);
}

/**
 * Waits until the runtime clock reads `deadline` (see `now()`). A checkpoint;
 * returns after one checkpoint if the deadline has already passed.
 *
 * @example
 * ```ts
 * import { now, sleepUntil } from "@quartet/core";
 * const start = now();
 * await sleepUntil(start + 100);
 * ```
 */
export async function sleepUntil(deadline: number): Promise<void> {
  requireDeadline(deadline, "sleepUntil() deadline");
  return sleepNode(deadline);
}

/**
 * Waits until cancelled: the returned promise never resolves, it only rejects
 * with `Cancelled`.
 *
 * @example
 * ```ts
 * import { moveOnAfter, sleepForever } from "@quartet/core";
 * await moveOnAfter(100, () => sleepForever());
 * ```
 */
export async function sleepForever(): Promise<never> {
  await sleepNode(Infinity);
  throw new Error("unreachable: sleepForever() woke up");
}

function sleepNode(deadline: number): Promise<void> {
  const context = current();
  const node = context.node;
  context.task.checkpoints++;
  if (node.effective !== null) return Promise.reject(node.effective);
  const runtime = node.runtime!;
  if (deadline <= runtime.now()) {
    // Does not park, so no alarm gets a chance to fire: look for passed deadlines here.
    runtime.pollDeadlines();
    if (node.effective !== null) return Promise.reject(node.effective);
    return runtime.schedulePoint().then(() => {
      if (node.effective !== null) throw node.effective;
    });
  }
  if (deadline !== Infinity) return new SleepWaiter(context, deadline).promise;
  const waiter = new Waiter<void>(context, null);
  waiter.owner = SLEEPING; // what it waits in, for the task tree
  return waiter.announce().promise;
}
