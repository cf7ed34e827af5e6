/**
 * Every error class Quartet throws, in one place.
 *
 * Each class sets `name` to its own class name, so errors read well in logs and
 * can be told apart across realms by `err.name`. Arguments of the wrong type are
 * reported with the built-in `TypeError`, numbers out of range with `RangeError`,
 * and misuse of state (calling `started()` twice, spawning into a finished group)
 * with a plain `Error` whose message says what was wrong. The named classes below
 * are for conditions that callers catch.
 *
 * @module
 */

import { current } from "./context.js";

/**
 * Thrown at a checkpoint when the enclosing cancel scope has been cancelled, to
 * unwind the task's stack (running its `finally` blocks and disposers) up to the
 * cancel scope that was cancelled, which catches it.
 *
 * `Cancelled` is not an ordinary failure: task groups never report it as one, and
 * code that catches everything should rethrow it (see {@link isCancelled}).
 *
 * @example
 * ```ts
 * import { CancelScope, Cancelled, sleep } from "@quartet/core";
 * const scope = new CancelScope();
 * await scope.run(async () => {
 *   scope.cancel("no longer needed");
 *   try {
 *     await sleep(1000);
 *   } catch (err) {
 *     if (err instanceof Cancelled) console.log(err.reason); // "no longer needed"
 *     throw err;
 *   }
 * });
 * ```
 */
export class Cancelled extends Error {
  /** The value given to `CancelScope.cancel(reason)`; a {@link TimeoutError} when a deadline passed. */
  readonly reason: unknown;
  /** Why the cancellation happened: what cancelled which scope (see {@link CancelOrigin}). */
  readonly origin: CancelOrigin;

  constructor(reason?: unknown, origin?: CancelOrigin) {
    const why = origin ?? { kind: "cancel" };
    super(describeCancellation(reason, why));
    this.reason = reason;
    this.origin = why;
  }
}
Cancelled.prototype.name = "Cancelled";

/**
 * Why a cancellation happened, as `Cancelled.origin` (and the `origin` of a
 * scope's `signal.reason`) carries it.
 *
 * @example
 * ```ts
 * import { Cancelled, taskGroup, sleepForever } from "@quartet/core";
 *
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     try {
 *       await sleepForever();
 *     } catch (err) {
 *       if (err instanceof Cancelled) console.log(err.origin.kind, err.origin.task); // "failure" "fetch-user"
 *       throw err;
 *     }
 *   });
 *   tg.spawn(async () => { throw new TypeError("boom"); }, { name: "fetch-user" });
 * }).catch(() => {});
 * ```
 */
export interface CancelOrigin {
  /**
   * What cancelled: `"cancel"` (an explicit `cancel()`), `"deadline"` (a deadline
   * passed), `"failure"` (a task of the group failed), `"deadlock"` (the run could
   * not go on), or a kind named by the package that cancelled (`@quartet/node`:
   * `"disconnect"`, `"shutdown"`, `"signal"`).
   */
  readonly kind: string;
  /** The name of the scope or task group that was cancelled, if it has one. */
  readonly scope?: string;
  /** For `"failure"`: the name of the task that failed. */
  readonly task?: string;
  /** For `"failure"`: the error it failed with. */
  readonly error?: unknown;
  /** Where `cancel()` was called; recorded only with debugging on (`run(main, { debug: true })` or `QUARTET_DEBUG=1`). */
  readonly stack?: string;
}

/** The message of a `Cancelled`: why, in words. */
function describeCancellation(reason: unknown, origin: CancelOrigin): string {
  const what = origin.scope === undefined ? "the cancel scope" : `"${origin.scope}"`;
  switch (origin.kind) {
    case "failure":
      return `cancelled because task "${origin.task}" failed: ${textOf(origin.error)}`;
    case "deadline":
      return `cancelled because the deadline of ${what} passed`;
    case "deadlock":
      return "cancelled because the run deadlocked: every task was blocked and nothing could wake them";
    case "cancel":
      return `cancelled: ${what} was cancelled${reason === undefined ? "" : `: ${textOf(reason, false)}`}`;
    default:
      return `cancelled (${origin.kind}): ${what} was cancelled${reason === undefined ? "" : `: ${textOf(reason, false)}`}`;
  }
}

/**
 * @internal Text for any value, for a message: never throws, whatever the value
 * (an object with no prototype, a Symbol, a getter or Proxy trap that throws).
 * Errors show as `name: message` when `withName`, else as their message.
 */
export function textOf(value: unknown, withName = true): string {
  try {
    if (value instanceof Error) return withName ? `${value.name}: ${value.message}` : String(value.message);
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "(a value that cannot be shown as text)";
    }
  }
}

/**
 * Thrown by `failAfter` and `failAt` when their scope cut the body short: its
 * deadline passed, or the body cancelled that scope (named like the
 * `TimeoutError` that JavaScript's own timeouts use). Also the `reason` of the
 * {@link Cancelled} raised when any cancel scope's deadline passes.
 *
 * @example
 * ```ts
 * import { TimeoutError, failAfter, sleep } from "@quartet/core";
 *
 * try {
 *   await failAfter(10, () => sleep(1000));
 * } catch (err) {
 *   if (!(err instanceof TimeoutError)) throw err;
 *   console.log(err.message); // "failAfter(10) timed out"
 * }
 * ```
 */
export class TimeoutError extends Error {}
TimeoutError.prototype.name = "TimeoutError";

/**
 * The error a `run()` rejects with when it deadlocked: the process was about to
 * exit with every task of the run blocked in a Quartet operation that nothing
 * could wake. Its message holds the task tree (which task waited in what). The
 * run was cancelled with it first (origin `"deadlock"`), so cleanup ran.
 *
 * @example
 * ```ts
 * import { DeadlockError, Event, run } from "@quartet/core";
 *
 * try {
 *   await run(() => new Event().wait()); // nobody will ever set it
 * } catch (err) {
 *   if (!(err instanceof DeadlockError)) throw err;
 *   console.log(err.message); // "deadlock: …" and the task tree
 * }
 * ```
 */
export class DeadlockError extends Error {}
DeadlockError.prototype.name = "DeadlockError";

/**
 * Thrown by `receive()` when every send handle of the channel is closed and the
 * buffer is empty; `for await` over a receive channel ends on it instead. A
 * channel over a stream (`@quartet/node`'s `fromReadable`, `fromReadableStream`)
 * throws it when the stream ended.
 *
 * @example
 * ```ts
 * import { EndOfChannel, openMemoryChannel } from "@quartet/core";
 *
 * const [send, receive] = openMemoryChannel<string>(1);
 * await send.send("last");
 * send.close();
 * console.log(await receive.receive()); // "last": buffered values come first
 * try {
 *   await receive.receive();
 * } catch (err) {
 *   if (!(err instanceof EndOfChannel)) throw err;
 *   console.log("no more values");
 * }
 * ```
 */
export class EndOfChannel extends Error {}
EndOfChannel.prototype.name = "EndOfChannel";

/**
 * Thrown by an operation on a handle (channel end, stream) that was itself closed.
 *
 * @example
 * ```ts
 * import { ClosedResourceError, openMemoryChannel } from "@quartet/core";
 *
 * const [send] = openMemoryChannel<number>(1);
 * send.close();
 * try {
 *   await send.send(1);
 * } catch (err) {
 *   if (!(err instanceof ClosedResourceError)) throw err;
 *   console.log(err.message); // "send() on a send channel that was closed"
 * }
 * ```
 */
export class ClosedResourceError extends Error {}
ClosedResourceError.prototype.name = "ClosedResourceError";

/**
 * Thrown by `send()` when every receive handle of the channel is closed: nobody
 * will ever read the value. Channels over streams (`@quartet/node`) throw it
 * when the stream broke: destroyed early, or the peer went away.
 *
 * @example
 * ```ts
 * import { BrokenResourceError, openMemoryChannel } from "@quartet/core";
 *
 * const [send, receive] = openMemoryChannel<string>(10);
 * receive.close(); // the only receiver went away
 * try {
 *   await send.send("hello");
 * } catch (err) {
 *   if (!(err instanceof BrokenResourceError)) throw err;
 *   console.log("nobody is listening");
 * }
 * ```
 */
export class BrokenResourceError extends Error {}
BrokenResourceError.prototype.name = "BrokenResourceError";

/**
 * Thrown by the `*Nowait` forms of operations when they would have had to block.
 *
 * @example
 * ```ts
 * import { WouldBlock, openMemoryChannel } from "@quartet/core";
 *
 * const [send] = openMemoryChannel<string>(1);
 * send.sendNowait("first"); // fits in the buffer
 * try {
 *   send.sendNowait("second"); // the buffer is full and nobody waits to receive
 * } catch (err) {
 *   if (!(err instanceof WouldBlock)) throw err;
 *   console.log("dropped: the consumer is behind");
 * }
 * ```
 */
export class WouldBlock extends Error {}
WouldBlock.prototype.name = "WouldBlock";

/**
 * Thrown by `taskGroup` when more than one of its tasks (or its body) failed.
 * `errors` holds the failures in the order they happened; a single failure is
 * rethrown as it is instead. `Cancelled` never appears among them.
 *
 * @example
 * ```ts
 * import { TaskGroupError, taskGroup } from "@quartet/core";
 *
 * try {
 *   await taskGroup(async (tg) => {
 *     tg.spawn(async () => { throw new Error("disk full"); });
 *     tg.spawn(async () => { throw new TypeError("bad input"); });
 *   }, { name: "save" });
 * } catch (err) {
 *   if (!(err instanceof TaskGroupError)) throw err;
 *   console.log(err.message); // 2 tasks failed in task group "save": Error: disk full; TypeError: bad input
 * }
 * ```
 */
export class TaskGroupError extends AggregateError {
  constructor(errors: readonly unknown[], groupName?: string) {
    super(
      errors,
      `${errors.length} tasks failed in task group${groupName ? ` "${groupName}"` : ""}: ` +
        errors.map((error) => textOf(error)).join("; "),
    );
  }
}
TaskGroupError.prototype.name = "TaskGroupError";


/**
 * Whether `error` is a cancellation rather than a failure of its own.
 *
 * True for a {@link Cancelled}; for an `AbortError` whose `cause` is a
 * `Cancelled` (what Node's APIs throw when given `currentSignal()`); and for an
 * `AbortError` without a `cause` when the calling code's cancel scope is
 * effectively cancelled. Use it in a catch-all handler to let cancellation through.
 *
 * @example
 * ```ts
 * import { isCancelled, sleep } from "@quartet/core";
 * try {
 *   await sleep(100);
 * } catch (err) {
 *   if (isCancelled(err)) throw err;
 *   console.error("work failed", err);
 * }
 * ```
 */
export function isCancelled(error: unknown): boolean {
  return cancellationOf(error, current().node.effective) !== undefined;
}

/**
 * @internal The `Cancelled` that `error` stands for, or `undefined` if it is an
 * ordinary failure. `effective` is the cancellation visible where the error is
 * being classified; it turns an `AbortError` without a `cause` into a cancellation.
 */
export function cancellationOf(error: unknown, effective: Cancelled | null): Cancelled | undefined {
  if (error === null || typeof error !== "object") return undefined;
  try {
    if (error instanceof Cancelled) return error;
    return compositeCancellation(error, effective);
  } catch {
    return undefined; // a getter or Proxy trap that throws: whatever it is, it is not a cancellation
  }
}

/**
 * An error that wraps others is a cancellation if every error in it is. They are
 * walked with a worklist, not by recursion: disposers nested 100,000 deep make
 * SuppressedErrors nested as deep. The result is the first cancellation found
 * (a SuppressedError's `error` before its `suppressed`).
 */
function compositeCancellation(error: object, effective: Cancelled | null): Cancelled | undefined {
  let found: Cancelled | undefined;
  // Each entry: a value, and whether it must be the cancellation visible here (a part of an AggregateError).
  const pending: Array<[unknown, boolean]> = [[error, false]];
  while (pending.length > 0) {
    const [value, mustBeEffective] = pending.pop()!;
    const cancelled = leafCancellation(value, effective, pending, mustBeEffective);
    if (cancelled === undefined) return undefined;
    if (cancelled === COMPOSITE) continue;
    if (mustBeEffective && cancelled !== effective) return undefined;
    found ??= cancelled;
  }
  return found;
}

const COMPOSITE = Symbol("composite");

/** The cancellation `value` stands for; or, for an error made of others, COMPOSITE after queueing its parts. */
function leafCancellation(value: unknown, effective: Cancelled | null, pending: Array<[unknown, boolean]>, mustBeEffective: boolean): Cancelled | typeof COMPOSITE | undefined {
  if (value instanceof Cancelled) return value;
  if (value === null || typeof value !== "object") return undefined;
  const name = (value as { name?: unknown }).name;
  if (name === "AbortError") {
    const cause = (value as { cause?: unknown }).cause;
    if (cause instanceof Cancelled) return cause;
    if (cause === undefined && effective !== null) return effective;
    return undefined;
  }
  if (name === "SuppressedError") {
    // `using` disposal that throws while a Cancelled unwinds (or a disposer that is itself
    // cancelled) makes a SuppressedError; it is a cancellation if both of its errors are.
    const { error: thrown, suppressed } = value as { error?: unknown; suppressed?: unknown };
    pending.push([suppressed, mustBeEffective], [thrown, mustBeEffective]); // `error` is looked at first
    return COMPOSITE;
  }
  if (value instanceof AggregateError && effective !== null) {
    // `Promise.any` over operations of a cancelled scope rejects with an AggregateError of its
    // Cancelleds: made only of the cancellation visible here, it is that cancellation.
    const errors: unknown = value.errors;
    if (!Array.isArray(errors) || errors.length === 0) return undefined;
    for (let i = errors.length - 1; i >= 0; i--) pending.push([errors[i], true]);
    return COMPOSITE;
  }
  return undefined;
}
