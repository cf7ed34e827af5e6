/**
 * Reaching foreign promises: AbortSignals and `abortable()`.
 *
 * A runtime cannot interrupt a promise it did not create (fetch, fs, a database
 * driver). Quartet meets them two ways: hand the API `currentSignal()`, or race
 * the promise against the current scope with `abortable()`.
 *
 * @module
 */

import { current } from "./core/context.js";
import { Waiter } from "./core/park.js";
import { describe } from "./core/validate.js";

/**
 * The AbortSignal of the calling code's cancel scope: it aborts, with the
 * `Cancelled` as its `reason`, when that scope is cancelled (by itself or from
 * outside). Pass it to any API that takes a signal; when the API throws because
 * the signal aborted, Quartet treats the error as that scope's cancellation.
 *
 * @example
 * ```ts
 * import { currentSignal, moveOnAfter } from "@quartet/core";
 * await moveOnAfter(5000, async () => {
 *   const response = await fetch("https://example.com", { signal: currentSignal() });
 *   console.log(response.status);
 * });
 * ```
 */
export function currentSignal(): AbortSignal {
  return current().node.signal;
}

/**
 * Waits for a foreign promise, but stops waiting (throwing `Cancelled`) as soon
 * as the calling code's cancel scope is cancelled. The operation behind the
 * promise is not stopped (use `currentSignal()` for that), and its later result
 * or error is dropped without an unhandled rejection. A checkpoint: throws at
 * once if the scope is already cancelled.
 *
 * @example
 * ```ts
 * import { abortable, moveOnAfter } from "@quartet/core";
 * import { readFile } from "node:fs/promises";
 * const text = await moveOnAfter(1000, () => abortable(readFile("/etc/hostname", "utf8")));
 * ```
 */
export function abortable<T>(promise: PromiseLike<T>): Promise<T> {
  if (promise === null || (typeof promise !== "object" && typeof promise !== "function") || typeof promise.then !== "function") {
    return Promise.reject(new TypeError(`abortable() needs a promise; got ${describe(promise)}`));
  }
  const context = current();
  const node = context.node;
  context.task.checkpoints++;
  // A native promise may be long-lived (a shutdown signal, a connection's close): watch it
  // with one reaction shared by every call, so that a call that is cancelled leaves nothing
  // on it. Another thenable is adopted afresh each call.
  const waiters = promise instanceof Promise ? watch(promise) : watch(Promise.resolve(promise));
  if (node.effective !== null) return Promise.reject(node.effective); // the watch marks it handled
  const waiter = new Waiter<T>(context, leaveWatch);
  waiter.owner = waiters;
  waiters.add(waiter);
  waiter.announce();
  return waiter.promise;
}

/** The tasks waiting in `abortable()` for each native promise that has not settled yet. */
const watches = new WeakMap<Promise<unknown>, Set<Waiter<any>>>();

/** The set of waiters for `promise`, with the one reaction that wakes them (its rejection is handled so). */
function watch(promise: Promise<unknown>): Set<Waiter<any>> {
  let waiters = watches.get(promise);
  if (waiters !== undefined) return waiters;
  const set = (waiters = new Set());
  watches.set(promise, set);
  promise.then(
    (value) => {
      watches.delete(promise);
      for (const waiter of set) waiter.wake(value);
    },
    (error: unknown) => {
      watches.delete(promise);
      for (const waiter of set) waiter.fail(error);
    },
  );
  return set;
}

/** A cancelled `abortable()` call stops waiting: nothing of it stays on the promise. */
function leaveWatch(waiter: Waiter<any>): void {
  (waiter.owner as Set<Waiter<any>>).delete(waiter);
}
