/**
 * `run()`: a program's own root scope and clock.
 *
 * @module
 */

import { CancelNode } from "./core/cancel-node.js";
import { currentRun, runInContext } from "./core/context.js";
import { Runtime, systemClock, type Clock, type RunHooks } from "./core/runtime.js";
import { Task, noteTaskOf } from "./core/task.js";
import { describe, requireFunction, requireOptionalObject } from "./core/validate.js";

/**
 * Closes the streams the run opened and never closed (cancelling their producers and waiting
 * for their cleanup), including any that closing opens. A producer's unseen failure is thrown.
 */
async function closeLeftovers(runtime: Runtime): Promise<void> {
  let failure: { error: unknown } | null = null;
  while (runtime.leftovers.size > 0) {
    const outcomes = await Promise.allSettled([...runtime.leftovers].map((leftover) => leftover.close()));
    for (const outcome of outcomes) if (outcome.status === "rejected") failure ??= { error: outcome.reason };
  }
  if (failure !== null) throw failure.error;
}

/**
 * Options of {@link run}.
 *
 * @example
 * ```ts
 * import { now, run, sleep } from "@quartet/core";
 * import { MockClock } from "@quartet/testing";
 *
 * await run(async () => {
 *   await sleep(60_000); // on the virtual clock: no real waiting
 *   console.log(now()); // 60000
 * }, { clock: new MockClock({ autojumpThreshold: 0 }) });
 * ```
 */
export interface RunOptions {
  /** The clock the run's deadlines and sleeps use. Default: the system's monotonic clock. */
  clock?: Clock;
}

/**
 * Runs `main` as the root task of a new run, with its own root cancel scope
 * and clock, and returns what `main` returns.
 *
 * Quartet's primitives also work outside any `run()` (in an implicit root scope
 * on the system clock); `run()` is for giving a program or a test its own clock,
 * such as a virtual one. Runs do not nest: calling `run()` inside a run throws.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "@quartet/core";
 * await run(async () => {
 *   await taskGroup(async (tg) => {
 *     tg.spawn(() => sleep(10));
 *   });
 * });
 * ```
 */
export async function run<T>(main: () => Promise<T> | T, options?: RunOptions): Promise<T> {
  requireFunction(main, "run() main");
  requireOptionalObject(options, "run() options");
  const clock = options?.clock ?? systemClock;
  if (clock === null || typeof clock !== "object" || typeof clock.now !== "function" || typeof clock.wakeAt !== "function") {
    throw new TypeError(`run() clock must be an object with now() and wakeAt() methods; got ${describe(clock)}`);
  }
  if (currentRun() !== null) {
    throw new Error("run() was called inside another run(); use taskGroup() or a CancelScope inside the run instead");
  }
  const runtime = new Runtime(clock);
  const root = new CancelNode();
  root.attachRoot(runtime);
  const hooks: RunHooks = { whenIdle: (callback, cushion) => runtime.whenIdle(callback, cushion) };
  clock.attach?.(hooks);
  const task = new Task(root, main.name || "main");
  runtime.taskStarted(task);
  try {
    let result: T;
    try {
      result = await runInContext(task, main);
    } catch (error) {
      noteTaskOf(error, task.name);
      await runInContext(task, closeLeftovers, runtime).catch(() => {}); // main's error is the one to report
      throw error;
    }
    await runInContext(task, closeLeftovers, runtime);
    return result;
  } finally {
    runtime.taskEnded(task);
    runtime.close();
    clock.detach?.(hooks);
  }
}
