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
