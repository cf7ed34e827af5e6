/**
 * The module piscina runs in every thread of a worker pool: it runs one
 * `runInWorker` call. The call's function runs inside a Quartet `run()` of its
 * own, in a cancel scope that the caller's cancellation cancels (with the
 * caller's kind and reason), so that a cancelled call unwinds as any task does:
 * its checkpoints throw `Cancelled`, its `finally` blocks and disposers run,
 * and the thread goes back to the pool.
 *
 * A pool thread stays alive between tasks (piscina listens on its ports), so
 * `run()`'s own deadlock watch, which waits for 'beforeExit', cannot see a
 * deadlock here. `watchForDeadlock` stands in for it: when every task of the
 * run is blocked and the thread holds nothing more than it held when the call
 * began (no timer, socket, port, file request of the call's), nothing can wake
 * them but a cancellation from the caller, and the call fails with a
 * `DeadlockError` that shows its task tree.
 *
 * @module
 */

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { MessagePort } from "node:worker_threads";
import { CancelScope, DeadlockError, run } from "@quartet/core";
import { cancelWithOrigin, currentRunHooks, formatTaskTree } from "@quartet/core/lowlevel";
import { decodeThrown, encodeThrown } from "./worker-errors.js";
import type { CancelMessage, Outcome, WorkerTask } from "./worker-protocol.js";

/** How long (real ms) to wait before looking again at a run whose tasks are all blocked while it holds a timer, socket or port that may wake one. */
const RECHECK_AFTER = 100;

export default async function runTask(task: WorkerTask): Promise<Outcome> {
  const { module, input, control } = task;
  try {
    const fn = await loadFunction(module);
    return await run(() => runCancellable(fn, task));
  } catch (error) {
    return { status: "threw", error: encodeThrown(error) };
  } finally {
    closePortsIn(input);
    control.close();
  }
}

/** The default exports this thread has loaded, by URL: a call of a module loaded before starts without a trip through the module loader. */
const loaded = new Map<string, (input: unknown) => unknown>();

async function loadFunction(module: string): Promise<(input: unknown) => unknown> {
  const known = loaded.get(module);
  if (known !== undefined) return known;
  const fn: unknown = (await importModule(module)).default;
  if (typeof fn !== "function") {
    throw new TypeError(`runInWorker(): ${module} must have a default export that is a function; got ${typeof fn}`);
  }
  loaded.set(module, fn as (input: unknown) => unknown);
  return fn as (input: unknown) => unknown;
}

/**
 * Imports `module`; if the ES module loader cannot load it (a `.ts` file when
 * the thread's TypeScript loader hooks only `require()`, as tsx does in worker
 * threads on Node 20), requires it. When this file itself was compiled to
 * CommonJS (tsx running Quartet's TypeScript sources, in this repository's
 * tests), the module is required as well: importing it would load a second
 * copy of `@quartet/core`, whose tasks and scopes this run would not see.
 */
async function importModule(module: string): Promise<{ default?: unknown }> {
  if (typeof require === "function" && module.startsWith("file:")) return require(fileURLToPath(module));
  try {
    return await import(module);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== "ERR_UNKNOWN_FILE_EXTENSION" || !module.startsWith("file:")) throw error;
    return createRequire(import.meta.url)(fileURLToPath(module));
  }
}

/** Runs `fn(input)` in a scope that a cancel message on the control port cancels; runs inside the call's `run()`. */
async function runCancellable(fn: (input: unknown) => unknown, { module, input, control }: WorkerTask): Promise<Outcome> {
  const scope = new CancelScope();
  const onMessage = (message: CancelMessage): void => {
    if (message.type === "cancel") cancelWithOrigin(scope, message.kind, decodeThrown(message.reason));
  };
  control.on("message", onMessage);
  const deadlock = watchForDeadlock(scope, module);
  try {
    const value = await scope.run(async () => fn(input));
    if (deadlock.error !== null) return { status: "threw", error: encodeThrown(deadlock.error) };
    if (scope.cancelledCaught) return { status: "cancelled" };
    if (typeof value === "function" || typeof value === "symbol") {
      // (Cheap to see here; a function deeper inside the value makes piscina's postMessage fail, and the thread with it.)
      const message = `runInWorker(): what ${module} returned cannot be sent to the calling thread (a ${typeof value}; the structured clone algorithm refuses it)`;
      return { status: "threw", error: encodeThrown(new TypeError(message)) };
    }
    return { status: "returned", value };
  } catch (error) {
    return { status: "threw", error: encodeThrown(error) };
  } finally {
    deadlock.stop();
    control.off("message", onMessage);
  }
}

/** Cancels `scope` with a `DeadlockError` when the run is deadlocked (see the module's comment). */
function watchForDeadlock(scope: CancelScope, module: string): { readonly error: DeadlockError | null; stop(): void } {
  const hooks = currentRunHooks();
  const baseline = resourceCounts();
  let withdraw = (): void => {};
  let later: ReturnType<typeof setTimeout> | undefined;
  const watch = {
    error: null as DeadlockError | null,
    stop(): void {
      withdraw();
      clearTimeout(later);
    },
  };
  // Called from setImmediate (where the immediate itself no longer counts as a resource, as a timer in its own callback would).
  const check = (): void => {
    if (holdsMoreThan(baseline)) {
      // Something of the call's may still wake a task: look again once the run is idle a while later.
      later = setTimeout(() => (withdraw = hooks.whenIdle(check)), RECHECK_AFTER).unref();
      return;
    }
    const tree = formatTaskTree(hooks.taskTree());
    watch.error = new DeadlockError(
      `deadlock in the worker thread running ${module}: every task is blocked in a Quartet operation and nothing can wake them\n${tree}`,
    );
    cancelWithOrigin(scope, "deadlock", watch.error);
  };
  withdraw = hooks.whenIdle(check);
  return watch;
}

/** How many of each kind of resource keeps this thread's event loop alive. */
function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function holdsMoreThan(baseline: Map<string, number>): boolean {
  for (const [kind, count] of resourceCounts()) if (count > (baseline.get(kind) ?? 0)) return true;
  return false;
}

/**
 * Closes the message ports the call was given (the input itself, or its
 * top-level properties or elements): the thread goes back to the pool, and a
 * port left open there would neither be read nor let the other side know
 * that nobody will. A channel over such a port that was not closed first is
 * then broken for its other end.
 */
function closePortsIn(input: unknown): void {
  if (input === null || typeof input !== "object") return;
  if (isPort(input)) return input.close();
  for (const value of Array.isArray(input) ? input : Object.values(input)) if (isPort(value)) value.close();
}

function isPort(value: unknown): value is MessagePort {
  return value instanceof MessagePort;
}
