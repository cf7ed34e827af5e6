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
import { BroadcastChannel, MessagePort, workerData } from "node:worker_threads";
import { CancelScope, DeadlockError, run } from "@quartet/core";
import { cancelWithOrigin, currentRunHooks, formatTaskTree } from "@quartet/core/lowlevel";
import { decodeThrown, encodeThrown } from "./worker-errors.js";
import { CANCEL_SLOTS, type CancelMessage, type Outcome, type PoolData, type WorkerTask } from "./worker-protocol.js";

/** How long (real ms) to wait before looking again at a run whose tasks are all blocked while it holds a timer, socket or port that may wake one. */
const RECHECK_AFTER = 100;

export default async function runTask(task: WorkerTask): Promise<Outcome> {
  try {
    const fn = await loadFunction(task.module);
    return await run(() => runCancellable(fn, task));
  } catch (error) {
    return { status: "threw", error: encodeThrown(error) };
  } finally {
    closePortsIn(task.input);
  }
}

// ------------------------------------------------------------------- cancellation

/** How many cancels of calls that this thread does not run (yet) it keeps, for their reasons. */
const KEPT_CANCELS = 64;

/** How long (real ms) a call marked as cancelled waits for the cancel's reason before it is cancelled without it. */
const REASON_WAIT = 100;

/** This thread's side of its pool's cancel channel (see worker-protocol.ts); listening from the start, so that it misses no cancel. */
const cancels = new (class Cancels {
  readonly #marks: Int32Array;
  /** The calls running here, by id. */
  readonly #running = new Map<number, CancelScope>();
  /** The last cancels of calls not running here, by id, oldest first. */
  readonly #kept = new Map<number, CancelMessage>();

  constructor(data: PoolData) {
    this.#marks = new Int32Array(data.cancelMarks);
    const channel = new BroadcastChannel(data.cancelChannel);
    channel.unref(); // the thread lives as long as piscina keeps it
    channel.onmessage = (event: unknown) => this.#received((event as { data: CancelMessage }).data);
  }

  /** Call `id` runs in `scope` until the returned function is called; a cancel that came first cancels it at once. */
  register(id: number, scope: CancelScope): () => void {
    this.#running.set(id, scope);
    const early = this.#kept.get(id);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (early !== undefined) {
      this.#kept.delete(id);
      cancel(scope, early);
    } else if (Atomics.load(this.#marks, id % CANCEL_SLOTS) === id) {
      // Cancelled, and the reason is on its way (the caller sends it again to threads that started since).
      timer = setTimeout(() => cancelWithOrigin(scope, "cancel"), REASON_WAIT).unref();
    }
    return () => {
      clearTimeout(timer);
      this.#running.delete(id);
    };
  }

  #received(message: CancelMessage): void {
    const scope = this.#running.get(message.id);
    if (scope !== undefined) return cancel(scope, message);
    this.#kept.set(message.id, message);
    if (this.#kept.size > KEPT_CANCELS) this.#kept.delete(this.#kept.keys().next().value!);
  }
})(workerData as PoolData);

function cancel(scope: CancelScope, message: CancelMessage): void {
  cancelWithOrigin(scope, message.kind, decodeThrown(message.reason));
}

// ------------------------------------------------------------------- the call

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

/** Runs `fn(input)` in a scope that the caller's cancel cancels; runs inside the call's `run()`. */
async function runCancellable(fn: (input: unknown) => unknown, { id, module, input }: WorkerTask): Promise<Outcome> {
  const scope = new CancelScope();
  const unregister = cancels.register(id, scope);
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
    unregister();
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
