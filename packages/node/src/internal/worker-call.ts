/**
 * The caller's side of one `runInWorker` call: its control port (see
 * `worker-protocol.ts`), what the worker reported on it, and the end of
 * piscina's task. The call is finished when piscina's task has ended (the
 * thread is free again, or gone) and the worker's report is in.
 *
 * @module
 */

import { MessageChannel, type MessagePort, type Worker } from "node:worker_threads";
import { Cancelled, isCancelled } from "@quartet/core";
import { parkCurrentTask, type ParkedTask } from "@quartet/core/lowlevel";
import { decodeThrown, encodeThrown } from "./worker-errors.js";
import type { CancelMessage, Outcome, WorkerMessage } from "./worker-protocol.js";

export class WorkerCall {
  readonly #href: string;
  readonly #port: MessagePort;
  /** The worker's end of the control port, handed over with the task. */
  readonly workerPort: MessagePort;
  /** The thread running the call, once it said so. */
  threadId: number | null = null;
  #outcome: Outcome | null = null;
  /** How piscina's task ended: `null` while it runs, else its error (`undefined` if it resolved). */
  #taskEnd: { readonly error: unknown } | null = null;
  #portClosed = false;
  #parked: ParkedTask<void> | null = null;

  constructor(href: string) {
    this.#href = href;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.workerPort = port2;
    port1.on("message", (message: WorkerMessage) => {
      if (message.type === "started") this.threadId = message.threadId;
      else this.#outcome = message.outcome;
      this.#wake();
    });
    port1.on("close", () => {
      this.#portClosed = true;
      this.#wake();
    });
  }

  /** Follows piscina's task for this call. */
  watch(task: Promise<unknown>): void {
    task.then(
      () => this.#ended(undefined),
      (error: unknown) => this.#ended(error),
    );
  }

  #ended(error: unknown): void {
    this.#taskEnd = { error };
    this.#wake();
  }

  isFinished(): boolean {
    return this.#taskEnd !== null && (this.#outcome !== null || this.#portClosed || this.#taskEnd.error !== undefined);
  }

  /** Waits (a checkpoint) until the call has finished. */
  async finished(): Promise<void> {
    while (!this.isFinished()) {
      this.#parked = parkCurrentTask<void>(() => (this.#parked = null), { operation: "runInWorker", object: "worker thread", name: this.#href });
      await this.#parked.promise;
    }
  }

  #wake(): void {
    const parked = this.#parked;
    this.#parked = null;
    parked?.wake();
  }

  /** Asks the worker to cancel the call's root scope with the kind and reason of `cancelled`. */
  cancel(cancelled: unknown): void {
    if (this.#portClosed) return;
    const kind = cancelled instanceof Cancelled ? cancelled.origin.kind : "cancel";
    const reason = cancelled instanceof Cancelled ? cancelled.reason : cancelled;
    const message: CancelMessage = { type: "cancel", kind, reason: encodeThrown(reason) };
    this.#port.postMessage(message);
  }

  /**
   * After a cancellation: an error of the worker's that is not the
   * cancellation (its cleanup failed), thrown as the call's outcome; nothing
   * if it unwound, returned, or was terminated.
   */
  throwFailureOfCleanup(): void {
    const outcome = this.#outcome;
    if (outcome?.status !== "threw") return;
    const error = decodeThrown(outcome.error);
    if (!isCancelled(error)) throw error;
  }

  /** If the task ended without a report (its thread was terminated), throws `error()`. */
  throwIfTerminated(error: () => Error): void {
    if (this.#outcome === null) throw error();
  }

  /** What the call came to: the value returned, or the error thrown. */
  result(): unknown {
    const outcome = this.#outcome;
    if (outcome === null) {
      const error = this.#taskEnd?.error;
      if (error !== undefined) throw error;
      throw new Error(`runInWorker(): the worker running ${this.#href} ended without reporting what came of the call`);
    }
    switch (outcome.status) {
      case "returned":
        return outcome.value;
      case "threw":
        throw decodeThrown(outcome.error);
      case "cancelled":
        throw new Error(`runInWorker(): the worker running ${this.#href} was cancelled although its caller was not`);
    }
  }

  close(): void {
    this.#port.close();
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
