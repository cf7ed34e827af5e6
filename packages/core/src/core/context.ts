/**
 * Current-context storage: which cancel node and task the running code is in.
 *
 * The current {@link Context} lives in an `AsyncLocalStorage`, so it follows
 * the code through `await`, promise callbacks and Node's callbacks. A task
 * group sets it for each child it starts; a cancel scope sets it for its body.
 * Code outside any Quartet call sees the implicit root: a never-cancelled node
 * on a runtime with the system clock, so every primitive works anywhere.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { CancelNode } from "./cancel-node.js";
import type { WaitTarget } from "./park.js";
import { watchImplicitRoot } from "./task-tree.js";
import { Runtime, systemClock } from "./runtime.js";

/**
 * Where running code is: its innermost cancel node and its task. Immutable
 * while it is current. No object is made just for this: a task is its own
 * first context (its starting node and itself), and a cancel node is the
 * context of the task that entered it (itself and that task).
 */
export interface Context {
  readonly node: CancelNode;
  readonly task: Task;
}

/**
 * A task record. A task is one call of an async function started by a task
 * group (or the main function of a `run()`, or the implicit root of code
 * outside any run). The record is also the task's first context — the node it
 * starts in and itself — so starting a task allocates one object, not two.
 */
export class Task implements Context {
  readonly node: CancelNode;
  /** A task is its own first context: as a context, its task is itself. (A field, not a getter: contexts are read on every operation, and a getter on some of them and a field on others makes every such read slower.) */
  readonly task: Task;
  /** The name given with `{ name }`, else the function's own name, else "anonymous". */
  readonly name: string;
  /** How many Quartet operations the task is blocked in right now (usually 0 or 1). Owned by the runtime. */
  blocks = 0;
  /** How many checkpoints (operations that check for cancellation) the task has passed; for `assertCheckpoints`. */
  checkpoints = 0;
  /** What the task is blocked in when it blocks without a waiter (its group's children, a `start()`); else `null`. */
  blockedIn: WaitTarget | null = null;
  /**
   * Whether the runtime counts this task among its living tasks (every task
   * but the implicit root). Only counted tasks take part in idle detection.
   */
  readonly counted: boolean;

  constructor(node: CancelNode, name: string, counted = true) {
    this.node = node;
    this.task = this;
    this.name = name;
    this.counted = counted;
  }
}

const storage = new AsyncLocalStorage<Context>();

let implicitRoot: Context | null = null;

/** The context of code outside any `run()`: a root node that nobody cancels, on the system clock. */
function rootContext(): Context {
  if (implicitRoot === null) {
    const node = new CancelNode();
    node.attachRoot(new Runtime(systemClock));
    const task = new Task(node, "<root>", false);
    node.task = task;
    implicitRoot = task;
    watchImplicitRoot(node);
  }
  return implicitRoot;
}

/** The context of the calling code. */
export function current(): Context {
  return storage.getStore() ?? rootContext();
}

/** The context of the calling code if it is inside a `run()` that has not returned; else `null`. */
export function currentRun(): Context | null {
  const context = storage.getStore();
  if (context === undefined) return null;
  const runtime = context.node.runtime!;
  return runtime !== implicitRoot?.node.runtime && !runtime.closed ? context : null;
}

/**
 * Makes `context` the current context for the rest of the calling callback
 * (and everything it starts), without restoring the previous one: cheaper than
 * `runInContext` (one context frame instead of two on Node 24), and correct
 * only at the top of a callback whose caller restores the context when it
 * returns — a `queueMicrotask` callback is one.
 */
export function enterContext(context: Context): void {
  storage.enterWith(context);
}

/** Calls `fn(...args)` with `context` as the current context (for it and everything it starts). */
export function runInContext<A extends unknown[], R>(context: Context, fn: (...args: A) => R, ...args: A): R {
  return storage.run(context, fn, ...args);
}
