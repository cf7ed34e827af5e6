/**
 * `@quartet/core/lowlevel`: hooks for code that extends Quartet (custom clocks, test
 * helpers) rather than uses it. Not needed by ordinary programs.
 *
 * @module @quartet/core/lowlevel
 */

import { current } from "./core/context.js";
import { Waiter } from "./core/park.js";
import type { RunHooks } from "./core/runtime.js";

import { taskPathOf } from "./core/task.js";
import { formatTree, taskTreeOf, type TaskTree } from "./core/task-tree.js";
import { cancelWithKind, CancelScope, nodeOf } from "./cancel-scope.js";
import type { Cancelled } from "./core/errors.js";

export { systemClock, type Clock, type ClockAlarm, type RunHooks } from "./core/runtime.js";
export type { TaskTree, TaskTreeScope, TaskTreeTask, TaskTreeWait } from "./core/task-tree.js";
export { addInstrument, type BlockInfo, type Instrument, type ScopeInfo, type TaskInfo } from "./core/instruments.js";
export { traceToFile } from "./trace.js";

/**
 * A snapshot of the current run (outside any run: of the implicit root) as
 * plain data: the main task, the scopes and task groups each task entered, the
 * tasks of each group, and what every blocked task waits in (with debugging on,
 * since when and from where). Names given to scopes, groups, tasks and
 * primitives are shown. Safe to keep: later changes do not affect it.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "@quartet/core";
 * import { taskTree } from "@quartet/core/lowlevel";
 *
 * await run(() =>
 *   taskGroup(async (tg) => {
 *     tg.spawn(() => sleep(1000), { name: "napper" });
 *     await sleep(10);
 *     const group = taskTree().main.scopes[0]!;
 *     console.log(group.tasks[0]!.name, group.tasks[0]!.wait?.operation); // "napper" "sleep"
 *     tg.cancelScope.cancel();
 *   }, { name: "demo" }),
 * );
 * ```
 */
export function taskTree(): TaskTree {
  const runtime = current().node.runtime!;
  return taskTreeOf(runtime.root!, runtime);
}

/**
 * The task tree as indented text for a terminal: one line per task (with what
 * it is blocked in) and per scope or task group (with its deadline, shield and
 * cancellation). Renders `tree`, or a fresh snapshot of the current run.
 *
 * @example
 * ```ts
 * import { Event, run, taskGroup } from "@quartet/core";
 * import { formatTaskTree } from "@quartet/core/lowlevel";
 *
 * await run(() =>
 *   taskGroup(async (tg) => {
 *     const ready = new Event({ name: "ready" });
 *     tg.spawn(() => ready.wait(), { name: "waiter" });
 *     await Promise.resolve();
 *     await Promise.resolve();
 *     console.log(formatTaskTree());
 *     // task "main" — running
 *     // └─ task group
 *     //    └─ task "waiter" — blocked: wait on Event "ready"
 *     ready.set();
 *   }),
 * );
 * ```
 */
export function formatTaskTree(tree?: TaskTree): string {
  return formatTree(tree ?? taskTree());
}

/**
 * Cancels `scope` with an `origin` of the given `kind`, for packages that cancel
 * on behalf of something outside the program: `@quartet/node` uses
 * `"disconnect"` (a client went away), `"shutdown"` and `"signal"`. Otherwise as
 * `scope.cancel(reason)`.
 *
 * @example
 * ```ts
 * import { CancelScope, Cancelled, sleepForever } from "@quartet/core";
 * import { cancelWithOrigin } from "@quartet/core/lowlevel";
 *
 * const request = new CancelScope({ name: "GET /report" });
 * await request.run(async () => {
 *   cancelWithOrigin(request, "disconnect", "the client went away");
 *   try {
 *     await sleepForever();
 *   } catch (err) {
 *     console.log((err as Cancelled).origin.kind); // "disconnect"
 *     throw err;
 *   }
 * });
 * ```
 */
export function cancelWithOrigin(scope: CancelScope, kind: string, reason?: unknown): void {
  if (!(scope instanceof CancelScope)) throw new TypeError("cancelWithOrigin() needs a CancelScope");
  if (typeof kind !== "string" || kind === "") throw new TypeError("cancelWithOrigin() kind must be a non-empty string");
  cancelWithKind(scope, kind, reason);
}

/**
 * Calls `callback` once, with the `Cancelled`, at the moment `scope` is
 * cancelled: by its own `cancel()` or deadline, or by a cancellation of a scope
 * around it that reaches it (not through a shield) — the moment `scope.signal`
 * aborts, with the same `Cancelled` as `signal.reason`, but without making an
 * AbortSignal. If the scope is already cancelled, `callback` is called at once;
 * once the scope has exited, it is no longer called. For integration code on a
 * hot path that must act the moment a scope is cancelled (a server that
 * answers a request then) and would otherwise pay for an AbortController and
 * an 'abort' listener per scope. Callbacks run after the cancellation has
 * reached every task it wakes, in the order they were added; they must not
 * throw (an error one throws is reported as an uncaught exception, as an
 * 'abort' listener's is).
 *
 * @example
 * ```ts
 * import { CancelScope, sleep } from "@quartet/core";
 * import { onCancelled } from "@quartet/core/lowlevel";
 *
 * const request = new CancelScope({ name: "GET /report" });
 * onCancelled(request, (cancelled) => console.log(`answer 503: ${cancelled.origin.kind}`));
 * request.deadline = 0; // already passed
 * await request.run(() => sleep(1000)); // prints "answer 503: deadline"
 * ```
 */
export function onCancelled(scope: CancelScope, callback: (cancelled: Cancelled) => void): void {
  if (!(scope instanceof CancelScope)) throw new TypeError("onCancelled() needs a CancelScope");
  if (typeof callback !== "function") throw new TypeError("onCancelled() callback must be a function");
  nodeOf(scope).addCancelCallback(callback);
}

/**
 * The names of the tasks an error came out of, innermost first: each task that
 * failed with it (a spawned or started task, or a run's main) adds its name as
 * the error travels outward. Empty for an error that did not come out of a task.
 * Process entry points use it to say where a crash came from.
 *
 * @example
 * ```ts
 * import { taskGroup } from "@quartet/core";
 * import { tasksOfError } from "@quartet/core/lowlevel";
 * try {
 *   await taskGroup(async (tg) => {
 *     tg.spawn(async () => { throw new Error("boom"); }, { name: "worker" });
 *   });
 * } catch (err) {
 *   console.log(tasksOfError(err)); // ["worker"]
 * }
 * ```
 */
export function tasksOfError(error: unknown): readonly string[] {
  return taskPathOf(error);
}

/**
 * The name of the task the calling code runs in: the `name` given to
 * `spawn`/`start`, else the function's name, else `"anonymous"`.
 *
 * @example
 * ```ts
 * import { taskGroup } from "@quartet/core";
 * import { currentTaskName } from "@quartet/core/lowlevel";
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => console.log(currentTaskName()), { name: "worker" }); // "worker"
 * });
 * ```
 */
export function currentTaskName(): string {
  return current().task.name;
}

/**
 * How many checkpoints the calling task has passed so far: operations that
 * check for cancellation (`checkpoint()`, `sleep`, a channel's `send` and
 * `receive`, acquiring a lock, waiting on an event, `abortable()`…), whether or
 * not they blocked. Awaiting a plain promise is not one. Counted per task, from
 * its start; `@quartet/testing`'s `assertCheckpoints` is built on it.
 *
 * @example
 * ```ts
 * import { checkpoint } from "@quartet/core";
 * import { currentCheckpointCount } from "@quartet/core/lowlevel";
 * const before = currentCheckpointCount();
 * await Promise.resolve(); // not a checkpoint
 * await checkpoint();
 * console.log(currentCheckpointCount() - before); // 1
 * ```
 */
export function currentCheckpointCount(): number {
  return current().task.checkpoints;
}

/**
 * What {@link currentStatistics} reports.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "@quartet/core";
 * import { currentStatistics } from "@quartet/core/lowlevel";
 *
 * await run(() =>
 *   taskGroup(async (tg) => {
 *     tg.spawn(() => sleep(1000));
 *     await sleep(10);
 *     const { tasksLiving, tasksRunnable, deadlines } = currentStatistics();
 *     console.log(tasksLiving, tasksRunnable, deadlines); // 2 1 1: main runs, the child sleeps
 *     tg.cancelScope.cancel();
 *   }),
 * );
 * ```
 */
export interface RunStatistics {
  /** Tasks of the current run (or of the implicit root outside any run) that have started and not finished, its main task included. */
  readonly tasksLiving: number;
  /** Living tasks that are not blocked in a Quartet operation: running, ready to run, or awaiting a foreign promise. */
  readonly tasksRunnable: number;
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
 * import { run } from "@quartet/core";
 * import { currentStatistics } from "@quartet/core/lowlevel";
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
    tasksRunnable: runtime.tasksLiving - runtime.tasksBlocked,
    deadlines: runtime.heap.size,
    msToNextDeadline: next === undefined ? Infinity : next.deadline - runtime.now(),
  });
}

/**
 * The hooks of the current run (or of the implicit root outside any run): what
 * virtual clocks and test helpers use to learn when every task is blocked.
 *
 * @example
 * ```ts
 * import { currentRunHooks } from "@quartet/core/lowlevel";
 * const withdraw = currentRunHooks().whenIdle(() => console.log("every task is blocked"));
 * withdraw();
 * ```
 */
export function currentRunHooks(): RunHooks {
  const runtime = current().node.runtime!;
  return { whenIdle: (callback, cushion) => runtime.whenIdle(callback, cushion), taskTree: () => taskTreeOf(runtime.root!, runtime) };
}

/**
 * A task parked by {@link parkCurrentTask}: whoever holds it decides when the task goes on.
 *
 * @example
 * ```ts
 * import { parkCurrentTask, type ParkedTask } from "@quartet/core/lowlevel";
 *
 * const parked: ParkedTask<number> = parkCurrentTask<number>();
 * setTimeout(() => parked.fail(new Error("the device went away")), 10);
 * try {
 *   await parked.promise;
 * } catch (err) {
 *   console.log((err as Error).message, parked.waiting); // the device went away false
 * }
 * ```
 */
export interface ParkedTask<T> {
  /** Settles when the task is woken, failed, or cancelled (then with `Cancelled`). Await it in the parked task. */
  readonly promise: Promise<T>;
  /** Whether the task is still parked. */
  readonly waiting: boolean;
  /** Lets the task go on with `value`. Does nothing if it is no longer parked. */
  wake(value: T): void;
  /** Makes the task's `promise` reject with `error`. Does nothing if it is no longer parked. */
  fail(error: unknown): void;
}

/**
 * What a task parked by {@link parkCurrentTask} waits for, as the task tree and
 * instruments show it: `operation` on `object` `"name"`.
 *
 * @example
 * ```ts
 * import { parkCurrentTask, type ParkedWait } from "@quartet/core/lowlevel";
 * const waitsFor: ParkedWait = { operation: "wait for", object: "event", name: "close" };
 * const parked = parkCurrentTask<void>(undefined, waitsFor); // shows as: wait for on event "close"
 * parked.wake();
 * await parked.promise;
 * ```
 */
export interface ParkedWait {
  readonly operation: string;
  readonly object?: string;
  readonly name?: string;
}

/** What a task parked by `parkCurrentTask()` without saying what for waits in, for the task tree. */
const PARKED = Object.freeze({ operation: "parked", object: "parkCurrentTask()" });

/**
 * Blocks the calling task in a custom Quartet operation (trio's
 * `wait_task_rescheduled`): returns a {@link ParkedTask} to hand to whoever will
 * wake it, and whose `promise` the task awaits. Cancellation of the calling scope
 * takes the task out first — `onAbort` runs (to remove it from any queue it
 * joined; it must not throw) and `promise` rejects with `Cancelled`. `waitsFor`
 * says what the task waits for, for the task tree and instruments. Throws
 * `Cancelled` at once if the scope is already cancelled, so it is a checkpoint.
 *
 * @example
 * ```ts
 * import { parkCurrentTask, type ParkedTask } from "@quartet/core/lowlevel";
 * const queue: ParkedTask<string>[] = [];
 * setTimeout(() => queue.shift()?.wake("hello"), 10);
 * const parked = parkCurrentTask<string>((p) => queue.splice(queue.indexOf(p), 1));
 * queue.push(parked);
 * console.log(await parked.promise); // "hello"
 * ```
 */
export function parkCurrentTask<T = void>(onAbort?: (parked: ParkedTask<T>) => void, waitsFor?: ParkedWait): ParkedTask<T> {
  if (onAbort !== undefined && typeof onAbort !== "function") {
    throw new TypeError(`parkCurrentTask() onAbort must be a function if given; got ${typeof onAbort}`);
  }
  if (waitsFor !== undefined && (waitsFor === null || typeof waitsFor !== "object" || typeof waitsFor.operation !== "string")) {
    throw new TypeError("parkCurrentTask() waitsFor must be an object with an operation string if given");
  }
  const context = current();
  context.task.checkpoints++;
  if (context.node.effective !== null) throw context.node.effective;
  const waiter = new Waiter<T>(context, onAbort ?? null);
  waiter.owner = waitsFor === undefined ? PARKED : Object.freeze({ ...waitsFor });
  return waiter.announce();
}
