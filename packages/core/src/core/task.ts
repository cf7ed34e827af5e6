/**
 * Task names.
 *
 * Helpers for task records (the `Task` class itself lives with the contexts,
 * since a task is its own first context): default names, and the trail of task
 * names an error leaves as it travels outward.
 *
 * @module
 */

export { Task } from "./context.js";

/** The name a task gets when none was given. */
export function taskName(fn: Function, given: string | undefined): string {
  return given ?? (fn.name || "anonymous");
}

/** Where an error records the names of the tasks it came out of, innermost first. */
const TASK_PATH = Symbol("quartet.taskPath");

/**
 * Records that `error` came out of the task `name` (it is thrown again by the
 * task group, so the list grows as it travels outward). Errors that are not
 * extensible objects are left alone.
 */
export function noteTaskOf(error: unknown, name: string): void {
  if (error === null || typeof error !== "object") return;
  try {
    if (!Object.isExtensible(error)) return;
    const path = (error as { [TASK_PATH]?: string[] })[TASK_PATH];
    if (path !== undefined) {
      path.push(name);
      return;
    }
    Object.defineProperty(error, TASK_PATH, { value: [name], enumerable: false, configurable: true });
  } catch {
    // A Proxy whose traps throw: the error travels on without its trail.
  }
}

/** The names of the tasks `error` came out of, innermost first; empty if none. */
export function taskPathOf(error: unknown): readonly string[] {
  if (error === null || typeof error !== "object") return [];
  try {
    return [...((error as { [TASK_PATH]?: string[] })[TASK_PATH] ?? [])];
  } catch {
    return [];
  }
}
