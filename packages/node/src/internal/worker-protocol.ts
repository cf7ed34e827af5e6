/**
 * What the two threads of a `runInWorker` call say to each other. The task
 * goes to the worker through piscina, and its outcome comes back as the
 * task's result. Each call also has a `MessageChannel` of its own, the
 * *control port*, on which the caller asks for cancellation: a cancel posted
 * before the worker has taken the task waits in the port for it.
 *
 * @module
 */

import type { MessagePort } from "node:worker_threads";
import type { EncodedThrown } from "./worker-errors.js";

/** The task piscina hands the worker's entry (`worker-entry.ts`). */
export interface WorkerTask {
  /** The URL of the module whose default export to run. */
  readonly module: string;
  readonly input: unknown;
  /** The worker's end of the control port. */
  readonly control: MessagePort;
}

/** What came of the call. */
export type Outcome =
  | { readonly status: "returned"; readonly value: unknown }
  | { readonly status: "threw"; readonly error: EncodedThrown }
  /** The caller's cancellation was caught by the worker's root scope. */
  | { readonly status: "cancelled" };

/** Caller → worker: cancel the call's root scope, with the caller's cancellation's kind and reason. */
export interface CancelMessage {
  readonly type: "cancel";
  readonly kind: string;
  readonly reason: EncodedThrown;
}
