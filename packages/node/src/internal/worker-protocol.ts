/**
 * What the two threads of a `runInWorker` call say to each other. The task
 * goes to the worker through piscina, and its outcome comes back as the
 * task's result: one message each way.
 *
 * Cancellation has a channel of its own per pool, which every thread of the
 * pool listens on: a `BroadcastChannel` that carries the call's id with the
 * cancellation's kind and reason. A cancel can reach a thread before the task
 * it is for (the two travel separately), so the caller also marks the call's
 * id in a slot of a `SharedArrayBuffer` that the pool gives every thread
 * (`workerData`), and the worker looks there when it takes the task; and each
 * thread keeps the last cancels of calls it does not run, for the reason.
 * (A `MessageChannel` per call would carry both in order, but moving a port to
 * a thread costs more than the rest of a call.)
 *
 * @module
 */

import type { EncodedThrown } from "./worker-errors.js";

/** How many slots the pool's shared cancel marks have: a call's slot is `id % CANCEL_SLOTS`. */
export const CANCEL_SLOTS = 1024;

/** What the pool gives each of its threads (piscina's `workerData`). */
export interface PoolData {
  /** The name of the pool's cancel channel (a `BroadcastChannel`). */
  readonly cancelChannel: string;
  /** `Int32Array` over it: slot `id % CANCEL_SLOTS` holds `id` once call `id` was cancelled. */
  readonly cancelMarks: SharedArrayBuffer;
}

/** The task piscina hands the worker's entry (`worker-entry.ts`). */
export interface WorkerTask {
  /** The call's id in its pool (a positive integer below 2^31). */
  readonly id: number;
  /** The URL of the module whose default export to run. */
  readonly module: string;
  readonly input: unknown;
}

/** What came of the call. */
export type Outcome =
  | { readonly status: "returned"; readonly value: unknown }
  | { readonly status: "threw"; readonly error: EncodedThrown }
  /** The caller's cancellation was caught by the worker's root scope. */
  | { readonly status: "cancelled" };

/** Caller → every thread of the pool: cancel call `id`'s root scope, with the caller's cancellation's kind and reason. */
export interface CancelMessage {
  readonly id: number;
  readonly kind: string;
  readonly reason: EncodedThrown;
}
