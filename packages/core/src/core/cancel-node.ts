/**
 * The cancel-status tree: how cancellation reaches a waiting task.
 *
 * Every running cancel scope has a `CancelNode`, a child of the node that was
 * current when the scope was entered. Task groups' scopes, the hidden scope of a
 * task being started with `start()`, and the root of each runtime are nodes too.
 *
 * Invariants:
 * - `effective` is the cancellation visible at this node: the parent's
 *   `effective` unless this node is shielded, else this node's own `cancelled`.
 *   The outermost visible cancellation wins, so the `Cancelled` a task sees is
 *   the one of the scope that will catch it. It is recomputed (here and down the
 *   subtree) whenever `cancelled`, `shield` or `parent` changes.
 * - Every waiter in the node's waiter list is a blocked operation of a task whose current
 *   node is this one, and has an abort callback that takes it out of whatever
 *   queue it joined. When `effective` becomes non-null, every waiter is aborted
 *   with it. Waiters never park on a node that is effectively cancelled: the
 *   checkpoint throws first.
 * - A node with a finite deadline is in its runtime's deadline heap from the
 *   moment it is attached until it is cancelled or detached.
 * - The AbortSignal is created only when someone asks for it, and is aborted
 *   (once; it never un-aborts) the first time `effective` becomes non-null.
 *   Cancel callbacks (`onCancelled`) are called at that same moment, once,
 *   and dropped then or when the node is detached.
 *
 * @module
 */

import type { Context, Task } from "./context.js";
import type { DeadlineEntry } from "./deadline-heap.js";
import { Cancelled, TimeoutError } from "./errors.js";
import type { Waiter } from "./park.js";
import { debugByDefault, type Runtime } from "./runtime.js";
import { callStack } from "./debug.js";
import { instrumentScope, instrumentScopeCancelled, instruments, type Thrown } from "./instruments.js";

const enum State {
  Fresh,
  Attached,
  Detached,
}

/** A function to call, once, when a node becomes effectively cancelled (see `onCancelled` in lowlevel). */
export type CancelCallback = (cancelled: Cancelled) => void;

/**
 * AbortControllers to abort, and cancel callbacks to call, once the propagation
 * under way has finished (listeners and callbacks run user code).
 */
let pendingAborts: Array<[AbortController | CancelCallback | CancelCallback[], Cancelled]> | null = null;

export class CancelNode implements DeadlineEntry, Context {
  /** As a {@link Context}: the node itself… */
  readonly node: CancelNode = this;
  /** …and the task that entered it (set by `attach`). */
  task!: Task;
  /** The runtime of the tree this node is attached to; `null` until attached. */
  runtime: Runtime | null = null;
  parent: CancelNode | null = null;
  /** This node's own cancellation: `cancel()` was called or its deadline passed. */
  cancelled: Cancelled | null = null;
  /** The cancellation visible at this node (see the module invariants). */
  effective: Cancelled | null = null;
  shield = false;
  deadline = Infinity;
  /** What the node is: a cancel scope's, a task group's, a task being started's, or a runtime's root. */
  kind: "scope" | "group" | "start" | "root" = "scope";
  /** The name of the scope or task group, for `Cancelled.origin` and the task tree. */
  name: string | undefined = undefined;
  /**
   * What the node belongs to, for the task tree: the `CancelScope`, the task group, or
   * the status of a task being started (`null` for a run's root).
   */
  owner: unknown = null;
  heapIndex = -1;
  heapSeq = 0;

  #state = State.Fresh;
  // Children and waiters are intrusive doubly linked lists (no allocation per entry):
  // `#firstChild` with each child's `#prevSibling`/`#nextSibling`, and `#firstWaiter`
  // with each waiter's `nodePrev`/`nodeNext` (a circular list: see addWaiter).
  #firstChild: CancelNode | null = null;
  #lastChild: CancelNode | null = null;
  #prevSibling: CancelNode | null = null;
  #nextSibling: CancelNode | null = null;
  #firstWaiter: Waiter<any> | null = null;
  #controller: AbortController | null = null;
  /** Cancel callbacks not called yet: none, one, or several (one function per node is the common case). */
  #callbacks: CancelCallback | CancelCallback[] | null = null;

  get entered(): boolean {
    return this.#state !== State.Fresh;
  }

  // ------------------------------------------------------------- tree shape

  /** Makes this node a root of `runtime`'s tree. */
  attachRoot(runtime: Runtime): void {
    this.kind = "root";
    this.runtime = runtime;
    runtime.root = this;
    this.#state = State.Attached;
  }

  /**
   * Enters the tree under `parent`, for code of `task`: inherits the parent's
   * runtime and visible cancellation, and arms the deadline.
   */
  attach(parent: CancelNode, task: Task): void {
    this.task = task;
    const runtime = parent.runtime!;
    this.runtime = runtime;
    this.parent = parent;
    this.#state = State.Attached;
    parent.#adopt(this);
    if (this.cancelled === null && this.deadline !== Infinity) {
      if (this.deadline <= runtime.now()) this.#deadlinePassed();
      else runtime.addDeadline(this);
    }
    this.#update();
    if (instruments !== null) {
      instrumentScope("scopeEntered", this);
      if (this.cancelled !== null) instrumentScopeCancelled(this, this.cancelled);
    }
  }

  /** Leaves the tree (the scope has exited; by throwing `thrown.error`, if `thrown` is given). */
  detach(thrown?: Thrown): void {
    if (this.#state !== State.Attached) return;
    if (instruments !== null) instrumentScope("scopeExited", this, thrown);
    this.#state = State.Detached;
    this.#callbacks = null; // a cancellation after the exit reaches nothing
    if (this.parent !== null) this.parent.#forget(this);
    this.parent = null;
    if (this.heapIndex >= 0) this.runtime!.removeDeadline(this);
  }

  /** Moves this node (with everything under it) beneath `parent`. Used when a started task moves into its group. */
  reparent(parent: CancelNode): void {
    if (this.parent !== null) this.parent.#forget(this);
    this.parent = parent;
    parent.#adopt(this);
    this.#update();
  }

  /** Appends `child` to the children (kept in order, so cancellation reaches them in order). */
  #adopt(child: CancelNode): void {
    const last = this.#lastChild;
    child.#prevSibling = last;
    child.#nextSibling = null;
    if (last === null) this.#firstChild = child;
    else last.#nextSibling = child;
    this.#lastChild = child;
  }

  #forget(child: CancelNode): void {
    const prev = child.#prevSibling;
    const next = child.#nextSibling;
    if (prev === null) this.#firstChild = next;
    else prev.#nextSibling = next;
    if (next === null) this.#lastChild = prev;
    else next.#prevSibling = prev;
    child.#prevSibling = child.#nextSibling = null;
  }

  // ---------------------------------------------------------- cancellation

  /**
   * Cancels the node: `kind` and `details` say why (see `CancelOrigin`); with
   * debugging on, the origin also records where this was called from.
   */
  cancel(reason?: unknown, kind = "cancel", details?: { task: string; error: unknown }): void {
    if (this.cancelled !== null) return;
    const origin: { kind: string; scope?: string; task?: string; error?: unknown; stack?: string } = { kind };
    if (this.name !== undefined) origin.scope = this.name;
    if (details !== undefined) {
      origin.task = details.task;
      origin.error = details.error;
    }
    if (this.runtime?.debug ?? debugByDefault) {
      const stack = callStack();
      if (stack !== "") origin.stack = stack; // a deadline or a failure is cancelled from Quartet's own code
    }
    const cancelled = (this.cancelled = new Cancelled(reason, Object.freeze(origin)));
    if (this.#state === State.Fresh) {
      // Not in the tree yet: the scope sees its own cancellation (its body's first checkpoint
      // will throw), and its signal aborts now, not when it is entered.
      this.effective = cancelled;
      const controller = this.#controller;
      if (controller !== null && !controller.signal.aborted) controller.abort(cancelled);
      const callbacks = this.#callbacks;
      if (callbacks !== null) {
        this.#callbacks = null;
        callCancelCallbacks(callbacks, cancelled);
      }
      return;
    }
    if (this.#state !== State.Attached) return;
    if (instruments !== null) instrumentScopeCancelled(this, cancelled);
    if (this.heapIndex >= 0) this.runtime!.removeDeadline(this);
    this.#update();
  }

  setShield(shield: boolean): void {
    this.shield = shield;
    if (this.#state === State.Attached) this.#update();
  }

  setDeadline(deadline: number): void {
    this.deadline = deadline;
    if (this.#state !== State.Attached || this.cancelled !== null) return;
    const runtime = this.runtime!;
    if (deadline === Infinity) runtime.removeDeadline(this);
    else if (deadline <= runtime.now()) this.#deadlinePassed();
    else runtime.moveDeadline(this);
  }

  /**
   * Cancels the node if its deadline has passed by `now`, even though no alarm has fired
   * yet (a CPU-bound task, or a scope not yet entered). Returns whether it is cancelled.
   */
  checkDeadline(now: number): boolean {
    if (this.cancelled === null && this.#state !== State.Detached && this.deadline <= now) this.#deadlinePassed();
    return this.cancelled !== null;
  }

  /** The deadline heap calls this when the deadline has passed. */
  fire(): void {
    this.#deadlinePassed();
  }

  #deadlinePassed(): void {
    this.cancel(new TimeoutError(`the deadline (${this.deadline} ms on the runtime clock) passed`), "deadline");
  }

  /** Recomputes `effective` here and below, aborting waiters and signals that see a new cancellation. */
  #update(): void {
    const outermost = pendingAborts === null;
    if (outermost) pendingAborts = [];
    try {
      this.#propagate();
    } finally {
      if (outermost) {
        const aborts = pendingAborts!;
        pendingAborts = null;
        for (const [target, reason] of aborts) {
          if (target instanceof AbortController) target.abort(reason);
          else callCancelCallbacks(target, reason);
        }
      }
    }
  }

  /**
   * Walks the subtree whose visible cancellation changed, without recursion, so
   * that nesting depth is bounded by memory and not by the call stack. Parents
   * get their new `effective` before their children; then the nodes that became
   * cancelled abort their waiters in post-order (children before parents,
   * siblings in order), as a recursive walk would.
   */
  #propagate(): void {
    let newlyCancelled: CancelNode[] | null = null;
    // Depth-first, children pushed last-first: pops come out as a mirrored pre-order, so the
    // list of newly cancelled nodes, read backwards, is in post-order with siblings in order.
    const stack: CancelNode[] = [this];
    while (stack.length > 0) {
      const node = stack.pop()!;
      const parentEffective = node.shield || node.parent === null ? null : node.parent.effective;
      const effective = parentEffective ?? node.cancelled;
      if (effective === node.effective) continue;
      if (node.effective === null) (newlyCancelled ??= []).push(node);
      node.effective = effective;
      for (let child = node.#firstChild; child !== null; child = child.#nextSibling) stack.push(child);
    }
    if (newlyCancelled === null) return;
    for (let i = newlyCancelled.length - 1; i >= 0; i--) newlyCancelled[i]!.#abortWaiters();
  }

  /** This node has just become effectively cancelled: wake its waiters with that, and abort its signal. */
  #abortWaiters(): void {
    const effective = this.effective!;
    // Aborting takes each waiter out of the list; always take the current first.
    for (let waiter = this.#firstWaiter; waiter !== null; waiter = this.#firstWaiter) waiter.abort(effective);
    const controller = this.#controller;
    if (controller !== null && !controller.signal.aborted) pendingAborts!.push([controller, effective]);
    const callbacks = this.#callbacks;
    if (callbacks !== null) {
      this.#callbacks = null;
      pendingAborts!.push([callbacks, effective]);
    }
  }

  // ------------------------------------------------------------ inspection

  /** The nodes entered directly under this one, in order (for the task tree). */
  childNodes(): CancelNode[] {
    const nodes: CancelNode[] = [];
    for (let child = this.#firstChild; child !== null; child = child.#nextSibling) nodes.push(child);
    return nodes;
  }

  /** The operations blocked in this node, in the order they blocked (for the task tree). */
  waiters(): Waiter<any>[] {
    const waiters: Waiter<any>[] = [];
    const first = this.#firstWaiter;
    if (first === null) return waiters;
    let waiter = first;
    do {
      waiters.push(waiter);
      waiter = waiter.nodeNext!;
    } while (waiter !== first);
    return waiters;
  }

  // ---------------------------------------------------------------- waiters

  /** Appends `waiter` (kept in order, so cancellation wakes waiters in the order they parked). */
  addWaiter(waiter: Waiter<any>): void {
    // The list is circular (the first's `nodePrev` is the last), so that parking into an empty
    // node stores one reference in it, not two: the node is long-lived and the waiter new, and
    // such a store costs V8 a write barrier.
    const first = this.#firstWaiter;
    if (first === null) {
      waiter.nodePrev = waiter.nodeNext = waiter;
      this.#firstWaiter = waiter;
      return;
    }
    const last = first.nodePrev!;
    waiter.nodePrev = last;
    waiter.nodeNext = first;
    last.nodeNext = waiter;
    first.nodePrev = waiter;
  }

  removeWaiter(waiter: Waiter<any>): void {
    const next = waiter.nodeNext!;
    if (next === waiter) {
      this.#firstWaiter = null;
    } else {
      const prev = waiter.nodePrev!;
      prev.nodeNext = next;
      next.nodePrev = prev;
      if (this.#firstWaiter === waiter) this.#firstWaiter = next;
    }
    waiter.nodePrev = waiter.nodeNext = null;
  }

  // ----------------------------------------------------------------- signal

  /** An AbortSignal that aborts, with the `Cancelled` as its reason, when this node is effectively cancelled. */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === null) {
      controller = this.#controller = new AbortController();
      if (this.effective !== null) controller.abort(this.effective);
    }
    return controller.signal;
  }

  /**
   * Calls `callback` once when this node becomes effectively cancelled, at the
   * moment its signal would abort; at once if it already is. Not called after
   * the node is detached. Costs no AbortSignal.
   */
  addCancelCallback(callback: CancelCallback): void {
    if (this.#state === State.Detached) return;
    if (this.effective !== null) {
      callCancelCallbacks(callback, this.effective);
      return;
    }
    const callbacks = this.#callbacks;
    if (callbacks === null) this.#callbacks = callback;
    else if (typeof callbacks === "function") this.#callbacks = [callbacks, callback];
    else callbacks.push(callback);
  }

  // -------------------------------------------------------------- deadlines

  /** The earliest deadline from here up to the nearest shield (inclusive); `-Infinity` if cancelled. */
  effectiveDeadline(): number {
    if (this.effective !== null) return -Infinity;
    let deadline = Infinity;
    for (let node: CancelNode | null = this; node !== null; node = node.parent) {
      if (node.deadline < deadline) deadline = node.deadline;
      if (node.shield) break;
    }
    return deadline;
  }
}

/**
 * Calls cancel callbacks with `cancelled`. One that throws does not stop the
 * others: its error is reported as an uncaught exception, as an error thrown
 * by an AbortSignal's 'abort' listener is.
 */
function callCancelCallbacks(callbacks: CancelCallback | CancelCallback[], cancelled: Cancelled): void {
  if (typeof callbacks === "function") callbacks = [callbacks];
  for (const callback of callbacks) {
    try {
      callback(cancelled);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
