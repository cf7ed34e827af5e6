/**
 * The caller's side of one `runInWorker` call: piscina's task, which resolves
 * with the worker's outcome, and how to ask for cancellation (see
 * `worker-protocol.ts`). The call is finished when that task has ended: the
 * thread is free again, or gone.
 *
 * @module
 */

import type { Worker } from "node:worker_threads";
import { Cancelled, isCancelled } from "@quartet/core";
import { parkCurrentTask, type ParkedTask } from "@quartet/core/lowlevel";
import { decodeThrown, encodeThrown } from "./worker-errors.js";
import type { CancelMessage, Outcome } from "./worker-protocol.js";

export class WorkerCall {
  readonly #href: string;
  readonly #sendCancel: (message: CancelMessage) => void;
  /** The call's id in its pool. */
  readonly id: number;
  /** How piscina's task ended: `null` while it runs. */
  #end: { readonly outcome: Outcome } | { readonly error: unknown } | null = null;
  #parked: ParkedTask<void> | null = null;

  constructor(href: string, id: number, sendCancel: (message: CancelMessage) => void) {
    this.#href = href;
    this.id = id;
    this.#sendCancel = sendCancel;
  }

  /** Follows piscina's task for this call: it resolves with the worker's outcome, or rejects if the thread died or was terminated. */
  watch(task: Promise<Outcome>): void {
    task.then(
      (outcome) => this.#ended({ outcome }),
      (error: unknown) => this.#ended({ error }),
    );
  }

  #ended(end: { readonly outcome: Outcome } | { readonly error: unknown }): void {
    this.#end = end;
    const parked = this.#parked;
    this.#parked = null;
    parked?.wake();
  }

  isFinished(): boolean {
    return this.#end !== null;
  }

  /** Waits (a checkpoint) until the call has finished. */
  async finished(): Promise<void> {
    while (this.#end === null) {
      this.#parked = parkCurrentTask<void>(() => (this.#parked = null), { operation: "runInWorker", object: "worker thread", name: this.#href });
      await this.#parked.promise;
    }
  }

  /** Asks the worker to cancel the call's root scope with the kind and reason of `cancelled`. */
  cancel(cancelled: unknown): void {
    const kind = cancelled instanceof Cancelled ? cancelled.origin.kind : "cancel";
    const reason = cancelled instanceof Cancelled ? cancelled.reason : cancelled;
    this.#sendCancel({ id: this.id, kind, reason: encodeThrown(reason) });
  }

  /**
   * After a cancellation: an error of the worker's that is not the
   * cancellation (its cleanup failed), thrown as the call's outcome; nothing
   * if it unwound, returned, or was terminated.
   */
  throwFailureOfCleanup(): void {
    const end = this.#end;
    if (end === null || !("outcome" in end) || end.outcome.status !== "threw") return;
    const error = decodeThrown(end.outcome.error);
    if (!isCancelled(error)) throw error;
  }

  /** If the task ended without an outcome (its thread was terminated), throws `error()`. */
  throwIfTerminated(error: () => Error): void {
    if (this.#end !== null && !("outcome" in this.#end)) throw error();
  }

  /** What the call came to: the value returned, or the error thrown. */
  result(): unknown {
    const end = this.#end;
    if (end === null) throw new Error(`runInWorker(): the call of ${this.#href} has not finished`);
    if (!("outcome" in end)) {
      const error = end.error as { name?: unknown } | null;
      if (error instanceof DOMException && error.name === "DataCloneError") {
        // Made in this thread, when the input was posted.
        const message = `runInWorker(): the input for ${this.#href} cannot be sent to a worker thread (the structured clone algorithm refused it: ${error.message})`;
        throw new TypeError(message, { cause: error });
      }
      // The entry returns whatever the call threw as its outcome: a failed task means the thread itself failed (it exited, or
      // piscina could not post the outcome, which Node reports without a message or as a plain object).
      const what = error instanceof Error && error.message !== "" ? `: ${error.message}` : "";
      const message = `runInWorker(): the worker thread running ${this.#href} failed outside the call${what} (if that was right after the call, most likely what it returned cannot be sent to the calling thread: a function or class instance inside it)`;
      throw new Error(message, { cause: error });
    }
    const outcome = end.outcome;
    switch (outcome.status) {
      case "returned":
        return outcome.value;
      case "threw":
        throw decodeThrown(outcome.error);
      case "cancelled":
        throw new Error(`runInWorker(): the worker running ${this.#href} was cancelled although its caller was not`);
    }
  }

  /** Waits (a checkpoint) until `thread` has exited. */
  static async exited(thread: Worker): Promise<void> {
    if (thread.threadId === -1) return;
    let parked: ParkedTask<void> | null = null;
    const onExit = (): void => parked?.wake();
    thread.once("exit", onExit);
    try {
      while (thread.threadId !== -1) {
        parked = parkCurrentTask<void>(undefined, { operation: "exit", object: "worker thread" });
        await parked.promise;
      }
    } finally {
      thread.off("exit", onExit);
    }
  }
}
