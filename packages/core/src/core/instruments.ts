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
import type { CancelOrigin } from "./errors.js";
import type { WaitTarget } from "./park.js";

/**
 * What instruments are told about a task. `id` is unique in the process;
 * `parent` is the id of the task whose code spawned or started it.
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
}

/**
 * An instrument: any of these methods, each called synchronously at the moment
 * it names. An instrument that throws is removed (with a process warning), so a
 * broken instrument cannot break the program it observes.
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
}

/** The installed instruments; `null` while there are none. */
export let instruments: Instrument[] | null = null;

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
}

/** Calls `method` of every instrument with `info`; one that throws is removed. */
function notify<K extends keyof Instrument>(method: K, info: Parameters<NonNullable<Instrument[K]>>[0]): void {
  for (const instrument of instruments ?? []) {
    const callback = instrument[method] as ((info: unknown) => void) | undefined;
    if (callback === undefined) continue;
    try {
      callback.call(instrument, info);
    } catch (error) {
      remove(instrument);
      process.emitWarning(`a Quartet instrument threw in ${method} and was removed: ${messageOf(error)}`, "QuartetInstrumentWarning");
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

export function instrumentSpawned(task: Task, parent: Task | undefined): void {
  notify("taskSpawned", taskInfo(task, parent));
}

export function instrumentStarted(task: Task): void {
  notify("taskStarted", taskInfo(task));
}

export function instrumentExited(task: Task): void {
  notify("taskExited", taskInfo(task));
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

function scopeInfo(node: CancelNode, origin?: CancelOrigin): ScopeInfo {
  const info: { id: number; name: string | undefined; type: "scope" | "group"; task: number; origin?: CancelOrigin } = {
    id: idOf(node),
    name: node.name,
    type: node.kind === "group" ? "group" : "scope",
    task: idOf(node.task),
  };
  if (origin !== undefined) info.origin = origin;
  return info;
}

export function instrumentScope(method: "scopeEntered" | "scopeExited", node: CancelNode): void {
  if (node.kind !== "scope" && node.kind !== "group") return;
  notify(method, scopeInfo(node));
}

export function instrumentScopeCancelled(node: CancelNode, origin: CancelOrigin): void {
  if (node.kind !== "scope" && node.kind !== "group") return;
  notify("scopeCancelled", scopeInfo(node, origin));
}
