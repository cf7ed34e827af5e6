/**
 * Checkpoints: where cancellation is delivered and other tasks get to run.
 *
 * @module
 */

import { current } from "./core/context.js";

/**
 * A checkpoint that does not block: throws `Cancelled` if the calling code's
 * cancel scope is cancelled, else lets other tasks run and checks again.
 * Put one in long computations so they can be cancelled.
 *
 * A deadline that has passed takes effect here even if the task has been busy
 * computing (so no timer could fire). Most checkpoints take one microtask; every 1024th waits for the event loop
 * (`setImmediate`), so a loop of checkpoints cannot starve timers and I/O.
 *
 * @example
 * ```ts
 * import { checkpoint } from "@quartet/core";
 * let sum = 0;
 * for (let i = 0; i < 10_000_000; i++) {
 *   sum += i;
 *   if (i % 10_000 === 0) await checkpoint(); // cancellable every 10,000 steps
 * }
 * ```
 */
export async function checkpoint(): Promise<void> {
  const { node, task } = current();
  task.checkpoints++;
  const runtime = node.runtime!;
  // A deadline that passed while the task computed: no alarm could fire, so fire it here.
  runtime.pollDeadlines();
  if (node.effective !== null) throw node.effective;
  await runtime.schedulePoint();
  if (node.effective !== null) throw node.effective;
}
