/**
 * Asserting that code does, or does not, pass a checkpoint (trio's
 * `assert_checkpoints` and `assert_no_checkpoints`).
 *
 * @module
 */

import { currentCheckpointCount } from "@quartet/core/lowlevel";

/**
 * Runs `body` in the calling task and rejects with an Error if it passed no
 * checkpoint: no operation in it checked for cancellation (awaiting a plain
 * promise does not count; checkpoints of other tasks do not count). Use it to
 * pin that an operation of yours can be cancelled and lets other tasks run. An
 * error thrown by `body` is rethrown as it is.
 *
 * @example
 * ```ts
 * import { openMemoryChannel } from "@quartet/core";
 * import { assertCheckpoints } from "@quartet/testing";
 *
 * const [send, receive] = openMemoryChannel<number>(1);
 * await assertCheckpoints(() => send.send(1)); // a send is a checkpoint, even when it does not wait
 * await assertCheckpoints(() => receive.receive());
 * ```
 */
export async function assertCheckpoints(body: () => Promise<unknown>): Promise<void> {
  requireBody(body, "assertCheckpoints()");
  const before = currentCheckpointCount();
  await body();
  if (currentCheckpointCount() === before) throw new Error("assertCheckpoints(): the body passed no checkpoint");
}

/**
 * Runs `body` in the calling task and rejects with an Error if it passed a
 * checkpoint — also when `body` threw (the error is then the assertion's
 * `cause`). Use it to pin that an operation never throws `Cancelled` and never
 * lets other tasks in between (a release, a `close()`, a `start()`'s handshake).
 *
 * @example
 * ```ts
 * import { Lock } from "@quartet/core";
 * import { assertNoCheckpoints } from "@quartet/testing";
 *
 * const lock = new Lock();
 * await assertNoCheckpoints(async () => {
 *   lock.acquireNowait();
 *   lock.release();
 * });
 * ```
 */
export async function assertNoCheckpoints(body: () => Promise<unknown>): Promise<void> {
  requireBody(body, "assertNoCheckpoints()");
  const before = currentCheckpointCount();
  let failure: { error: unknown } | null = null;
  try {
    await body();
  } catch (error) {
    failure = { error };
  }
  const passed = currentCheckpointCount() - before;
  if (passed > 0) {
    const message = `assertNoCheckpoints(): the body passed ${passed === 1 ? "a checkpoint" : `${passed} checkpoints`}`;
    throw failure === null ? new Error(message) : new Error(message, { cause: failure.error });
  }
  if (failure !== null) throw failure.error;
}

function requireBody(body: unknown, what: string): asserts body is () => Promise<unknown> {
  if (typeof body !== "function") throw new TypeError(`${what} body must be a function; got ${body === null ? "null" : typeof body}`);
}
