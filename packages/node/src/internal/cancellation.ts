/**
 * The rule for errors that a cancellation causes: they *are* that cancellation.
 *
 * When Quartet cancels a scope, `@quartet/node` closes what the scope was using
 * — it destroys a request's body stream, ends or destroys a response, kills a
 * child process, destroys a socket — and the client going away that cancels a
 * request also resets its streams. Code that was using those streams then sees
 * Node's errors (`ECONNRESET` "aborted", `ERR_STREAM_WRITE_AFTER_END`, `EPIPE`,
 * a killed child's exit status) although nothing failed: the work was
 * cancelled. Such an error is therefore treated as the scope's `Cancelled` —
 * never reported as a failure — wherever the package can tell it apart.
 *
 * The converse holds too: a stream destroyed with one scope's `Cancelled` must
 * not throw that `Cancelled` into a task whose own scopes are not cancelled (it
 * would unwind a task nobody cancelled); there it is a `BrokenResourceError`.
 *
 * @module
 */

import { BrokenResourceError, currentSignal, isCancelled } from "@quartet/core";

/**
 * Codes of Node's errors for a stream that was closed or reset under its user:
 * the peer went away (`ECONNRESET`, `EPIPE`, `ECONNABORTED`), or the stream was
 * destroyed or ended by someone else (the rest).
 */
const CLOSED_STREAM_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_STREAM_WRITE_AFTER_END",
  "ERR_STREAM_ALREADY_FINISHED",
  "ERR_HTTP_HEADERS_SENT",
]);

/** Codes of a peer that reset or closed its end: normal on a network, not a failure to print. */
const PEER_RESET_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE"]);

/** How many `cause` links to follow (a cycle must not loop forever). */
const MAX_CAUSES = 8;

/** Whether `error`, or an error in its `cause` chain, satisfies `test`. */
export function inCauseChain(error: unknown, test: (error: unknown) => boolean): boolean {
  for (let i = 0; i < MAX_CAUSES && error !== null && error !== undefined; i++) {
    if (test(error)) return true;
    if (typeof error !== "object") return false;
    error = (error as { cause?: unknown }).cause;
  }
  return false;
}

function hasCode(error: unknown, codes: ReadonlySet<string>): boolean {
  if (error === null || typeof error !== "object") return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && codes.has(code);
}

/**
 * Whether `error` is what using a stream that was closed or reset throws (by
 * its code, or because it is a `BrokenResourceError` of a stream channel),
 * directly or as a `cause`.
 */
export function isClosedStreamError(error: unknown): boolean {
  return inCauseChain(error, (e) => e instanceof BrokenResourceError || hasCode(e, CLOSED_STREAM_CODES));
}

/** Whether `error` says that the peer reset or closed the connection (`ECONNRESET`, `EPIPE`), directly or as a `cause`. */
export function isPeerReset(error: unknown): boolean {
  return inCauseChain(error, (e) => hasCode(e, PEER_RESET_CODES));
}

/**
 * What an error that a stream channel got from its stream is for the calling
 * task: in a cancelled scope, that scope's `Cancelled` (the stream failed
 * because of the cancellation, or of what caused it, and an operation in a
 * cancelled scope throws `Cancelled`); a `Cancelled` the stream carries from
 * another scope, in a task that is not cancelled, a `BrokenResourceError` with
 * it as `cause`; anything else, the error as it is.
 */
export function streamErrorForCaller(error: unknown, what: string): unknown {
  const signal = currentSignal();
  if (signal.aborted) return signal.reason;
  if (isCancelled(error)) return new BrokenResourceError(`${what}: the stream was closed by a cancellation elsewhere`, { cause: error });
  return error;
}
