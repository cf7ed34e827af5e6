/**
 * `quartet/lowlevel`: hooks for code that extends Quartet (custom clocks, test
 * helpers) rather than uses it. Not needed by ordinary programs.
 *
 * @module
 */

import { current } from "./core/context.js";

export { systemClock, type Clock, type ClockAlarm } from "./core/runtime.js";

/**
 * The name of the task the calling code runs in: the `name` given to
 * `spawn`/`start`, else the function's name, else `"anonymous"`.
 *
 * @example
 * ```ts
 * import { taskGroup } from "quartet";
 * import { currentTaskName } from "quartet/lowlevel";
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => console.log(currentTaskName()), { name: "worker" }); // "worker"
 * });
 * ```
 */
export function currentTaskName(): string {
  return current().task.name;
}

/** What {@link currentStatistics} reports. */
export interface RunStatistics {
  /** Tasks of the current run (or of the implicit root outside any run) that have started and not finished, its main task included. */
  readonly tasksLiving: number;
  /** Pending deadlines (cancel scopes with a deadline, sleepers) in the run's deadline heap. */
  readonly deadlines: number;
  /** Milliseconds until the earliest pending deadline; `Infinity` if there is none. */
  readonly msToNextDeadline: number;
}

/**
 * Statistics of the current run (trio's `current_statistics`), as a frozen
 * record: how many tasks are alive and how many deadlines are pending.
 *
 * @example
 * ```ts
 * import { run } from "quartet";
 * import { currentStatistics } from "quartet/lowlevel";
 * await run(async () => {
 *   console.log(currentStatistics().tasksLiving); // 1: main
 * });
 * ```
 */
export function currentStatistics(): RunStatistics {
  const runtime = current().node.runtime!;
  const next = runtime.heap.peek();
  return Object.freeze({
    tasksLiving: runtime.tasksLiving,
    deadlines: runtime.heap.size,
    msToNextDeadline: next === undefined ? Infinity : next.deadline - runtime.now(),
  });
}
