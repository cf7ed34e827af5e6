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
import { Runtime, systemClock } from "./runtime.js";
import { Task } from "./task.js";

/** Where running code is: its innermost cancel node and its task. Immutable; a new one is made per task and per scope. */
export class Context {
  readonly node: CancelNode;
  readonly task: Task;

  constructor(node: CancelNode, task: Task) {
    this.node = node;
    this.task = task;
  }
}

const storage = new AsyncLocalStorage<Context>();

let implicitRoot: Context | null = null;

/** The context of code outside any `run()`: a root node that nobody cancels, on the system clock. */
function rootContext(): Context {
  if (implicitRoot === null) {
    const node = new CancelNode();
    node.attachRoot(new Runtime(systemClock));
    implicitRoot = new Context(node, new Task("<root>", false));
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

/** Calls `fn(...args)` with `context` as the current context (for it and everything it starts). */
export function runInContext<A extends unknown[], R>(context: Context, fn: (...args: A) => R, ...args: A): R {
  return storage.run(context, fn, ...args);
}
