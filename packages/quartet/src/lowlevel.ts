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
