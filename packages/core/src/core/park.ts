/**
 * Parking and waking: the one mechanism behind every blocking operation.
 *
 * A blocking operation (sleep, a channel send, acquiring a lock, awaiting a
 * foreign promise) creates a {@link Waiter}: a promise plus the cancel node it
 * waits in plus an *abort callback* that takes it out of whatever queue it joined.
 * The operation puts the waiter in its queue and returns `waiter.promise`.
 * Whoever serves the queue calls `wake(value)` or `fail(error)`; if the node is
 * cancelled first, the node calls `abort(cancelled)`, which runs the abort
 * callback and rejects the promise. Exactly one of the three takes effect.
 *
 * Callers must check `node.effective` before parking (a checkpoint in a
 * cancelled scope throws without blocking).
 *
 * A waiter is what a blocked task costs in memory, so it keeps few fields:
 * sleepers, which also sit in the deadline heap, are a subclass.
 *
 * @module
 */

import type { CancelNode } from "./cancel-node.js";
import type { Context, Task } from "./context.js";
import type { DeadlineEntry } from "./deadline-heap.js";
import type { Cancelled } from "./errors.js";
import { CallSite } from "./debug.js";
import { instrumentBlocked, instrumentUnblocked, instruments, type Wait } from "./instruments.js";

/**
 * What a blocked task waits in, for the task tree and instruments: the
 * operation, and the object it waits on (`receive` on channel "jobs"). One per
 * queue, shared by its waiters; the object's `name` is the one given to it.
 */
export interface WaitTarget {
  readonly operation: string;
  readonly object?: string;
  name?: string;
}

/** Debugging mode's record of a block: since when (runtime clock) and from where. */
export interface BlockRecord {
  readonly since: number;
  readonly site: CallSite;
}

/** With debugging on, when and where each waiter (or task blocked without one) blocked. */
export const blockRecords = new WeakMap<object, BlockRecord>();

/** Takes an aborted waiter out of the queue it joined. Runs synchronously inside `cancel()`: it must not block or throw. */
export type AbortCallback<T> = (waiter: Waiter<T>) => void;

export class Waiter<T = void> {
  readonly promise: Promise<T>;
  /** Payload for the queue the waiter joined (for example the value a sender offers). */
  value: unknown = undefined;
  /** Who parked it, for queues that must find the waiters of one handle (a channel end being closed). */
  owner: unknown = undefined;
  /** Links of the cancel node's waiter list; owned by the node. */
  nodePrev: Waiter<any> | null = null;
  nodeNext: Waiter<any> | null = null;
  /** Links of the {@link ParkingLot} the waiter is queued in; owned by that lot. */
  lotPrev: Waiter<T> | null = null;
  lotNext: Waiter<T> | null = null;
  lot: object | null = null;

  /** The node the task waits in; `null` once the waiter has been woken, failed or aborted. */
  #node: CancelNode | null;
  readonly #task: Task;
  readonly #onAbort: AbortCallback<T> | null;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  /** Parks the task of `context` in its current node. The caller has checked that the node is not cancelled. */
  constructor(context: Context, onAbort: AbortCallback<T> | null) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const node = context.node;
    this.#node = node;
    this.#task = context.task;
    this.#onAbort = onAbort;
    node.addWaiter(this);
    const runtime = node.runtime!;
    runtime.block(context.task);
    if (runtime.debug) blockRecords.set(this, { since: runtime.now(), site: new CallSite() });
  }

  /**
   * Tells instruments that the task blocked here. Called by whoever made the
   * waiter once it is fully set up (queued, its owner set), so that they can say
   * what it waits in.
   */
  announce(): this {
    if (instruments !== null) instrumentBlocked(this.#task, describeWaiter(this));
    return this;
  }

  /** The task that is blocked. */
  get task(): Task {
    return this.#task;
  }

  /** The tasks blocked here: its task (and, for a {@link SharedWaiter}, the tasks that joined it). */
  tasks(): Task[] {
    return [this.#task];
  }

  /** The cancel node the task waits in; `null` once the waiter has been woken, failed or aborted. */
  get node(): CancelNode | null {
    return this.#node;
  }

  /** Whether the waiter is still blocked (not yet woken, failed or aborted). */
  get waiting(): boolean {
    return this.#node !== null;
  }

  /** Unblocks the operation with `value`. Does nothing if it already ended. */
  wake(value: T): void {
    if (this.leave()) this.#resolve(value);
  }

  /** Unblocks the operation with an error (not a cancellation: the queue's own failure). */
  fail(error: unknown): void {
    if (this.leave()) this.#reject(error);
  }

  /** Called by the cancel node when it is cancelled: leave the queue, then throw `cancelled` in the waiting task. */
  abort(cancelled: Cancelled): void {
    if (!this.leave()) return;
    this.#onAbort?.(this);
    this.#reject(cancelled);
  }

  /** Takes the waiter out of its node and unblocks its task; returns false if it had already ended. */
  protected leave(): boolean {
    const node = this.#node;
    if (node === null) return false;
    this.#node = null;
    node.removeWaiter(this);
    node.runtime!.unblock(this.#task);
    if (instruments !== null) instrumentUnblocked(this.#task, describeWaiter(this));
    return true;
  }
}

/**
 * A waiter that other tasks of the same cancel node can join: one promise, one
 * place in the node's waiter list and in the queue, for all of them (the tasks
 * of one group waiting on one `Event` cost one waiter, not one each). Exact
 * because the tasks share the node: a cancellation reaches all of them at
 * once, and they get the same `Cancelled`. Only for a queue that wakes all its
 * waiters together, in order (an `Event`): the tasks of a shared waiter go on
 * in the order they joined, as they would with a waiter each.
 */
export class SharedWaiter<T = void> extends Waiter<T> {
  /** The tasks that joined, in order; `null` until one does. */
  #others: Task[] | null = null;

  /** Blocks the task of `context` (in this waiter's node, still waiting) here too. */
  join(context: Context): void {
    const task = context.task;
    (this.#others ??= []).push(task);
    task.node.runtime!.block(task);
    if (instruments !== null) instrumentBlocked(task, describeWaiter(this));
  }

  override tasks(): Task[] {
    const tasks = [this.task];
    if (this.#others !== null) tasks.push(...this.#others);
    return tasks;
  }

  /** How many tasks are blocked here. */
  get size(): number {
    return 1 + (this.#others?.length ?? 0);
  }

  protected override leave(): boolean {
    if (!super.leave()) return false;
    const others = this.#others;
    if (others !== null) {
      const runtime = this.task.node.runtime!;
      for (const task of others) {
        runtime.unblock(task);
        if (instruments !== null) instrumentUnblocked(task, describeWaiter(this));
      }
    }
    return true;
  }
}

/** A waiter that also waits for a deadline (a sleeper): it sits in the runtime's deadline heap too. */
export class SleepWaiter extends Waiter<void> implements DeadlineEntry {
  deadline: number;
  heapIndex = -1;
  heapSeq = 0;
  readonly #runtime;

  constructor(context: Context, deadline: number) {
    super(context, null);
    this.deadline = deadline;
    this.#runtime = context.node.runtime!;
    this.#runtime.addDeadline(this);
    this.announce();
  }

  /** The deadline passed. */
  fire(): void {
    this.wake();
  }

  protected override leave(): boolean {
    if (!super.leave()) return false;
    if (this.heapIndex >= 0) this.#runtime.removeDeadline(this);
    return true;
  }
}

/** What a sleeper waits in; `sleepForever()`'s waiter has it as its owner. */
export const SLEEPING: WaitTarget = Object.freeze({ operation: "sleep" });

/**
 * What a waiter waits in: its queue's target (and the time its queue says it
 * waits until, if any); a sleeper's deadline; else the
 * target its creator put as its owner (a WaitTarget), or a foreign promise in
 * abortable() (whose owner is the set of its waiters).
 */
export function describeWaiter(waiter: Waiter<any>): Wait {
  const lot = waiter.lot as { what?: WaitTarget; untilOf?: (waiter: Waiter<any>) => number | undefined } | null;
  if (lot !== null && lot.what !== undefined) {
    const until = lot.untilOf?.(waiter);
    return until === undefined ? { what: lot.what } : { what: lot.what, until };
  }
  if (waiter instanceof SleepWaiter) return { what: SLEEPING, until: waiter.deadline };
  const owner = waiter.owner as { operation?: unknown } | undefined;
  if (owner instanceof Set) return { what: ABORTABLE };
  if (owner === SLEEPING) return { what: SLEEPING, until: Infinity };
  if (owner !== undefined && owner !== null && typeof owner.operation === "string") return { what: owner as WaitTarget };
  return { what: WAITING };
}

const ABORTABLE: WaitTarget = Object.freeze({ operation: "abortable", object: "foreign promise" });
const WAITING: WaitTarget = Object.freeze({ operation: "wait" });
