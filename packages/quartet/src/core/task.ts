/**
 * Task records.
 *
 * A task is one call of an async function started by a task group (or the
 * main function of a `run()`, or the implicit root of code outside any run).
 * The record carries what the runtime knows of it; the task's code is
 * whatever promise its function returned.
 *
 * @module
 */

export class Task {
  /** The name given with `{ name }`, else the function's own name, else "anonymous". */
  readonly name: string;
  /**
   * Whether the runtime counts this task among its living tasks (every task
   * but the implicit root). Only counted tasks take part in idle detection.
   */
  readonly counted: boolean;
  /** How many Quartet operations the task is blocked in right now (usually 0 or 1). Owned by the runtime. */
  blocks = 0;

  constructor(name: string, counted = true) {
    this.name = name;
    this.counted = counted;
  }
}

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
  if (error === null || typeof error !== "object" || !Object.isExtensible(error)) return;
  const path = (error as { [TASK_PATH]?: string[] })[TASK_PATH];
  if (path !== undefined) {
    path.push(name);
    return;
  }
  Object.defineProperty(error, TASK_PATH, { value: [name], enumerable: false, configurable: true });
}

/** The names of the tasks `error` came out of, innermost first; empty if none. */
export function taskPathOf(error: unknown): readonly string[] {
  if (error === null || typeof error !== "object") return [];
  return [...((error as { [TASK_PATH]?: string[] })[TASK_PATH] ?? [])];
}
