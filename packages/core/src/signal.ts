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
export async function abortable<T>(promise: PromiseLike<T>): Promise<T> {
  if (promise === null || (typeof promise !== "object" && typeof promise !== "function") || typeof promise.then !== "function") {
    throw new TypeError(`abortable() needs a promise; got ${describe(promise)}`);
  }
  const settled = Promise.resolve(promise);
  const context = current();
  const node = context.node;
  if (node.effective !== null) {
    settled.then(undefined, ignore);
    throw node.effective;
  }
  const waiter = new Waiter<T>(context, null);
  settled.then(
    (value) => waiter.wake(value),
    (error: unknown) => waiter.fail(error),
  );
  return waiter.promise;
}

function ignore(): void {}
