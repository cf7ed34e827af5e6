/**
 * Instruments (trio's): callbacks told about tasks and scopes as they live.
 *
 * The list is process-wide (every run, and code outside any run). While it is
 * empty, each hook point costs one read of a module variable: `instruments`
 * is `null`, not an empty array.
 *
 * @module
 */

import type { CancelNode } from "./cancel-node.js";
import type { Task } from "./context.js";
import type { CancelOrigin, Cancelled } from "./errors.js";
import type { WaitTarget } from "./park.js";

/**
 * What instruments are told about a task. `id` is unique in the process;
 * `parent` is the id of the task whose code spawned or started it. `taskSpawned`
 * also says which task group the task goes into (`group`, a {@link ScopeInfo} id)
 * and how (`via`); `taskExited` says what the task threw, if it threw.
 *
 * @example
 * ```ts
 * import { addInstrument, type TaskInfo } from "@quartet/core/lowlevel";
 * const spawned: TaskInfo[] = [];
 * const remove = addInstrument({ taskSpawned: (task) => void spawned.push(task) });
 * remove();
 * ```
 */
export interface TaskInfo {
  readonly id: number;
  readonly name: string;
  readonly parent: number | undefined;
  /**
   * For `taskSpawned`: the id of the task group the task is spawned into, or
   * that `start()` moves it into when it calls `started()`. Absent for a run's
   * main task and a producer's host task, which belong to no group.
   */
  readonly group?: number;
  /** For `taskSpawned`: how it joins `group`: `"spawn"`, or `"start"` (it belongs to its caller until `started()`). */
  readonly via?: "spawn" | "start";
  /**
   * For `taskExited`: what the task threw (a `Cancelled` too), present only if
   * it threw — test with `"error" in task`, since any value can be thrown.
   */
  readonly error?: unknown;
}

/**
 * What instruments are told when a task blocks or unblocks: the task, and what
 * it waits in. (An unblock may name only the operation: a queue hands its waiter
 * over before the waiter leaves it. Pair unblocks with blocks by task `id`.)
 *
 * @example
 * ```ts
 * import { addInstrument, type BlockInfo } from "@quartet/core/lowlevel";
 * const remove = addInstrument({ taskBlocked: (block: BlockInfo) => console.log(block.name, block.operation, block.target) });
 * remove();
 * ```
 */
export interface BlockInfo {
  readonly id: number;
  readonly name: string;
  /** The operation: `sleep`, `send`, `receive`, `acquire`, `wait`, `abortable`, `started`, `children`… */
  readonly operation: string;
  /** The kind of object waited on (`channel`, `Lock`, `Event`…), if any. */
  readonly object?: string;
  /** The name given to that object, if any. */
  readonly target?: string;
  /** For a sleep: until when (runtime clock). */
  readonly until?: number;
}

/**
 * What instruments are told about a cancel scope or task group.
 *
 * @example
 * ```ts
 * import { addInstrument, type ScopeInfo } from "@quartet/core/lowlevel";
 * const remove = addInstrument({ scopeCancelled: (scope: ScopeInfo) => console.log(scope.name, scope.origin?.kind) });
 * remove();
 * ```
 */
export interface ScopeInfo {
  /** Unique in the process. */
  readonly id: number;
  readonly name: string | undefined;
  readonly type: "scope" | "group";
  /** The id of the task that entered it. */
  readonly task: number;
  /** For `scopeCancelled`: why. */
  readonly origin?: CancelOrigin;
  /** For `scopeCancelled`: the `reason` of the `Cancelled` (what was given to `cancel(reason)`; a failure's error; a `TimeoutError` for a deadline), if there is one. */
  readonly reason?: unknown;
  /**
   * For `scopeExited`: what came out of the scope's body or group (a `Cancelled`
   * that the scope did not catch too), present only if it exited by throwing —
   * test with `"error" in scope`.
   */
  readonly error?: unknown;
}

/**
 * An instrument: any of these methods, each called synchronously at the moment
 * it names. An instrument that throws is removed (with a process warning), so a
 * broken instrument cannot break the program it observes.
 *
 * `wrapTask` and `wrapScope` are for instruments that carry a context of their
 * own along the task tree (an OpenTelemetry context, an `AsyncLocalStorage`
 * store): they are called where a task's function, or the body of a cancel
 * scope or task group, is about to be called, with `enter`, which calls it. The
 * instrument calls `enter()` inside whatever it wants that code to run in —
 * `context.with(ctx, enter)`, `storage.run(store, enter)` — and since the code
 * and everything it starts (awaits, spawned tasks, callbacks) inherit the
 * async context they were started in, all of it runs there. `enter` must be
 * called once, synchronously; what the code returns or throws does not pass
 * through the instrument. An instrument that throws, or returns without
 * calling `enter`, is removed with a warning, and the code runs anyway.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "@quartet/core";
 * import { addInstrument, type Instrument } from "@quartet/core/lowlevel";
 *
 * const log: Instrument = {
 *   taskSpawned: (task) => console.log("spawned", task.name),
 *   taskBlocked: (block) => console.log(block.name, "blocks in", block.operation),
 * };
 * const remove = addInstrument(log);
 * await run(() => taskGroup(async (tg) => tg.spawn(() => sleep(10), { name: "napper" })));
 * remove();
 * ```
 */
export interface Instrument {
  /** A task was created (spawned, started with `start()`, or a run's main). */
  taskSpawned?(task: TaskInfo): void;
  /** A task's function began to run. */
  taskStarted?(task: TaskInfo): void;
  /** A task finished (returned or threw). */
  taskExited?(task: TaskInfo): void;
  /** A task blocked in a Quartet operation. */
  taskBlocked?(block: BlockInfo): void;
  /** A task left a Quartet operation it was blocked in. */
  taskUnblocked?(block: BlockInfo): void;
  /** A cancel scope or task group was entered. */
  scopeEntered?(scope: ScopeInfo): void;
  /** A cancel scope or task group was cancelled (its own `cancel()`, deadline or failure). */
  scopeCancelled?(scope: ScopeInfo): void;
  /** A cancel scope or task group was exited. */
  scopeExited?(scope: ScopeInfo): void;
  /** A task's function is about to be called (after `taskStarted`): call `enter()` to call it. */
  wrapTask?(task: TaskInfo, enter: () => void): void;
  /** The body of a cancel scope or task group is about to be called (after `scopeEntered`): call `enter()` to call it. */
  wrapScope?(scope: ScopeInfo, enter: () => void): void;
}

/** The installed instruments; `null` while there are none. */
export let instruments: Instrument[] | null = null;

/** The installed instruments that have `wrapTask`; `null` while there are none (so a task costs one read of it). */
export let taskWrappers: Instrument[] | null = null;

/** The installed instruments that have `wrapScope`; `null` while there are none. */
export let scopeWrappers: Instrument[] | null = null;

/**
 * Installs `instrument` for every run in the process (and code outside any
 * run), and returns a function that removes it. While no instrument is
 * installed the hooks cost nothing measurable.
 *
 * @example
 * ```ts
 * import { run, sleep } from "@quartet/core";
 * import { addInstrument } from "@quartet/core/lowlevel";
 *
 * let blocked = 0;
 * const remove = addInstrument({ taskBlocked: () => void blocked++ });
 * await run(() => sleep(10));
 * remove();
 * console.log(blocked); // 1
 * ```
 */
export function addInstrument(instrument: Instrument): () => void {
  if (instrument === null || typeof instrument !== "object") {
    throw new TypeError(`addInstrument() needs an object with instrument methods; got ${instrument === null ? "null" : typeof instrument}`);
  }
  instruments = [...(instruments ?? []), instrument];
  listWrappers();
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    remove(instrument);
  };
}

function remove(instrument: Instrument): void {
  if (instruments === null) return;
  const rest = instruments.filter((each) => each !== instrument);
  instruments = rest.length === 0 ? null : rest;
  listWrappers();
}

/** Updates the lists of wrapping instruments from `instruments`. */
function listWrappers(): void {
  const all = instruments ?? [];
  const tasks = all.filter((instrument) => typeof instrument.wrapTask === "function");
  const scopes = all.filter((instrument) => typeof instrument.wrapScope === "function");
  taskWrappers = tasks.length === 0 ? null : tasks;
  scopeWrappers = scopes.length === 0 ? null : scopes;
}

/** Removes `instrument`, which `did` something wrong in `method`, with a warning. */
function discard(instrument: Instrument, method: keyof Instrument, did: string, detail?: string): void {
  remove(instrument);
  const message = `a Quartet instrument ${did} in ${method} and was removed${detail === undefined ? "" : `: ${detail}`}`;
  process.emitWarning(message, "QuartetInstrumentWarning");
}

/** Calls `method` of every instrument with `info`; one that throws is removed. */
function notify<K extends keyof Instrument>(method: K, info: Parameters<NonNullable<Instrument[K]>>[0]): void {
  for (const instrument of instruments ?? []) {
    const callback = instrument[method] as ((info: unknown) => void) | undefined;
    if (callback === undefined) continue;
    try {
      callback.call(instrument, info);
    } catch (error) {
      discard(instrument, method, "threw", messageOf(error));
    }
  }
}

/** An error's message, or the value as text; never throws. */
function messageOf(error: unknown): string {
  try {
    return String(error instanceof Error ? error.message : error);
  } catch {
    return "(a value that cannot be shown as text)";
  }
}

// ------------------------------------------------------------------- ids

let nextId = 1;
const ids = new WeakMap<object, number>();

/** A process-wide id for a task or a scope's node, given the first time it is asked for. */
export function idOf(object: object): number {
  let id = ids.get(object);
  if (id === undefined) ids.set(object, (id = nextId++));
  return id;
}

// ------------------------------------------------------------------- hook points (call only when `instruments !== null`)

function taskInfo(task: Task, parent?: Task): TaskInfo {
  return { id: idOf(task), name: task.name, parent: parent === undefined ? undefined : idOf(parent) };
}

/** `group` is the node of the task group the task joins (absent for a run's main and a producer's host), `via` how. */
export function instrumentSpawned(task: Task, parent: Task | undefined, group?: CancelNode, via?: "spawn" | "start"): void {
  const info: { id: number; name: string; parent: number | undefined; group?: number; via?: "spawn" | "start" } = taskInfo(task, parent);
  if (group !== undefined) info.group = idOf(group);
  if (via !== undefined) info.via = via;
  notify("taskSpawned", info);
}

export function instrumentStarted(task: Task): void {
  notify("taskStarted", taskInfo(task));
}

/** `thrown` holds what the task threw, if it threw. */
export function instrumentExited(task: Task, thrown?: Thrown): void {
  const info: { id: number; name: string; parent: number | undefined; error?: unknown } = taskInfo(task);
  if (thrown !== undefined) info.error = thrown.error;
  notify("taskExited", info);
}

/** What a task or a scope threw, when it ended by throwing (any value can be thrown, `undefined` too: hence the box). */
export interface Thrown {
  readonly error: unknown;
}

/** The operation a waiter (or a task blocked without one, with `what`) waits in. */
export function blockInfo(task: Task, what: WaitTarget, until?: number): BlockInfo {
  const info: { id: number; name: string; operation: string; object?: string; target?: string; until?: number } = {
    id: idOf(task),
    name: task.name,
    operation: what.operation,
  };
  if (what.object !== undefined) info.object = what.object;
  if (what.name !== undefined) info.target = what.name;
  if (until !== undefined) info.until = until;
  return info;
}

/** What a blocked task waits in: the target, and for a sleep its end. */
export interface Wait {
  readonly what: WaitTarget;
  readonly until?: number;
}

export function instrumentBlocked(task: Task, wait: Wait): void {
  notify("taskBlocked", blockInfo(task, wait.what, wait.until));
}

export function instrumentUnblocked(task: Task, wait: Wait): void {
  notify("taskUnblocked", blockInfo(task, wait.what, wait.until));
}

function scopeInfo(node: CancelNode): ScopeInfo {
  return { id: idOf(node), name: node.name, type: node.kind === "group" ? "group" : "scope", task: idOf(node.task) };
}

export function instrumentScope(method: "scopeEntered" | "scopeExited", node: CancelNode, thrown?: Thrown): void {
  if (node.kind !== "scope" && node.kind !== "group") return;
  const info: { id: number; name: string | undefined; type: "scope" | "group"; task: number; error?: unknown } = scopeInfo(node);
  if (thrown !== undefined) info.error = thrown.error;
  notify(method, info);
}

export function instrumentScopeCancelled(node: CancelNode, cancelled: Cancelled): void {
  if (node.kind !== "scope" && node.kind !== "group") return;
  const info: { id: number; name: string | undefined; type: "scope" | "group"; task: number; origin: CancelOrigin; reason?: unknown } = {
    ...scopeInfo(node),
    origin: cancelled.origin,
  };
  if (cancelled.reason !== undefined) info.reason = cancelled.reason;
  notify("scopeCancelled", info);
}

// ------------------------------------------------------------------- wrapping (call only when the list is not `null`)

/** Calls a task's function, `body`, inside the `wrapTask` of every instrument that has one; returns or throws what `body` does. */
export function wrapTaskBody<R>(task: Task, body: () => R): R {
  return wrapped(taskWrappers!, "wrapTask", taskInfo(task), body);
}

/** Calls the body of a scope or task group inside the `wrapScope` of every instrument that has one; returns or throws what `body` does. */
export function wrapScopeBody<R>(node: CancelNode, body: () => R): R {
  return wrapped(scopeWrappers!, "wrapScope", scopeInfo(node), body);
}

/**
 * Calls `body()` inside `method` of each of `wrappers` in turn, the first one
 * outermost, and returns what it returns or throws what it throws. The outcome
 * of `body` never passes through an instrument: it is caught at the innermost
 * point and handed back from here. So an instrument that throws threw by
 * itself; it is removed, as is one that returns without having called `enter`,
 * and `body` runs anyway — exactly once (a second or a late `enter()` does nothing).
 */
function wrapped<R>(wrappers: Instrument[], method: "wrapTask" | "wrapScope", info: TaskInfo | ScopeInfo, body: () => R): R {
  let result: R | undefined;
  let thrown: Thrown | undefined;
  const enterFrom = (index: number): void => {
    if (index === wrappers.length) {
      try {
        result = body();
      } catch (error) {
        thrown = { error };
      }
      return;
    }
    const instrument = wrappers[index]!;
    let entered = false;
    const enter = (): void => {
      if (entered) return;
      entered = true;
      enterFrom(index + 1);
    };
    try {
      (instrument[method] as (info: TaskInfo | ScopeInfo, enter: () => void) => void).call(instrument, info, enter);
    } catch (error) {
      discard(instrument, method, "threw", messageOf(error));
    }
    if (!entered) {
      if (instruments?.includes(instrument)) discard(instrument, method, "returned without calling enter()");
      enter();
    }
  };
  enterFrom(0);
  if (thrown !== undefined) throw thrown.error;
  return result as R;
}
