/**
 * ParkingLot: the one fair wait queue behind every synchronization primitive
 * and channel (trio's `ParkingLot`).
 *
 * Tasks park at the back and are woken from the front, so waiters are served
 * in FIFO order. Invariants:
 * - Every waiter in the lot is waiting (not yet woken, failed or aborted), and
 *   its abort callback removes it from the lot: a cancelled waiter is never
 *   woken, and a woken waiter can no longer be cancelled. That is what makes
 *   "a cancelled operation has no effect" hold for every primitive built here.
 * - The lot is an intrusive doubly linked list through the waiters' `lotPrev`
 *   and `lotNext`, so parking, waking the first and removing any waiter are O(1).
 *   It is circular (the first waiter's `lotPrev` is the last), so that parking in
 *   an empty lot stores one reference in the lot, not two: the lot is long-lived
 *   and the waiter new, and V8 pays a write barrier for each such store.
 *
 * @module
 */

import type { Context } from "./context.js";
import { SharedWaiter, Waiter, type WaitTarget } from "./park.js";

export class ParkingLot<T = void> {
  /** What its waiters wait in (for the task tree). */
  readonly what: WaitTarget;
  /**
   * For a queue whose waiters also wait for a time (a rate limiter's first
   * waiter): until when `waiter` waits, on the runtime clock, or `undefined`;
   * the task tree and instruments show it as a sleep's `until`.
   */
  readonly untilOf: ((waiter: Waiter<T>) => number | undefined) | undefined;
  #head: Waiter<T> | null = null;
  #size = 0;

  constructor(what: WaitTarget = { operation: "wait" }, untilOf?: (waiter: Waiter<T>) => number | undefined) {
    this.what = what;
    this.untilOf = untilOf;
  }

  /** How many tasks are parked here. */
  get size(): number {
    return this.#size;
  }

  /** The front waiter (the next to be served), or `null` if the lot is empty. */
  get first(): Waiter<T> | null {
    return this.#head;
  }

  /**
   * Parks the task of `context` at the back of the lot, carrying `value` (and
   * `owner`) for whoever wakes it. The caller must have checked that the
   * context's node is not cancelled. `onAbort` runs after the waiter has left
   * the lot because of cancellation.
   */
  park(context: Context, value?: unknown, owner?: unknown, onAbort?: (waiter: Waiter<T>) => void): Waiter<T> {
    const waiter = new Waiter<T>(
      context,
      onAbort === undefined
        ? leaveLot
        : (w) => {
            leaveLot(w);
            onAbort(w);
          },
    );
    waiter.value = value;
    waiter.owner = owner;
    this.#append(waiter);
    return waiter.announce();
  }

  /**
   * Parks the task of `context` at the back of the lot, as {@link park} does,
   * with a waiter that other tasks of its cancel node can join while it is the
   * last (see `SharedWaiter`). For a lot whose waiters are all woken together.
   */
  parkShared(context: Context): SharedWaiter<T> {
    const waiter = new SharedWaiter<T>(context, leaveLot);
    this.#append(waiter);
    return waiter.announce();
  }

  /** The back waiter (the last to have parked), or `null` if the lot is empty. */
  get last(): Waiter<T> | null {
    return this.#head === null ? null : this.#head.lotPrev;
  }

  /** Takes the front waiter out of the lot and returns it (still parked: the caller wakes or fails it). */
  shift(): Waiter<T> | null {
    const waiter = this.#head;
    if (waiter !== null) this.remove(waiter);
    return waiter;
  }

  /** Wakes the front waiter with `value`; returns false if the lot was empty. */
  wakeFirst(value: T): boolean {
    const waiter = this.shift();
    if (waiter === null) return false;
    waiter.wake(value);
    return true;
  }

  /** Wakes every waiter, in order, with `value`. */
  wakeAll(value: T): void {
    for (let waiter = this.shift(); waiter !== null; waiter = this.shift()) waiter.wake(value);
  }

  /** Fails every waiter, in order, with `error`. */
  failAll(error: unknown): void {
    for (let waiter = this.shift(); waiter !== null; waiter = this.shift()) waiter.fail(error);
  }

  /** Moves the front `count` waiters, in order, to the back of `other` (trio's `repark`). */
  moveTo(other: ParkingLot<T>, count: number): void {
    for (let i = 0; i < count; i++) {
      const waiter = this.shift();
      if (waiter === null) return;
      other.#append(waiter);
    }
  }

  /** Takes `waiter` out of the lot; does nothing if it is not in it. */
  remove(waiter: Waiter<T>): void {
    if (waiter.lot !== this) return;
    const next = waiter.lotNext!;
    if (next === waiter) {
      this.#head = null;
    } else {
      const prev = waiter.lotPrev!;
      prev.lotNext = next;
      next.lotPrev = prev;
      if (this.#head === waiter) this.#head = next;
    }
    waiter.lotPrev = waiter.lotNext = null;
    waiter.lot = null;
    this.#size--;
  }

  /** The waiters, front to back. Do not add or remove while iterating, except the current one. */
  *[Symbol.iterator](): IterableIterator<Waiter<T>> {
    let waiter = this.#head;
    for (let left = this.#size; left > 0 && waiter !== null; left--) {
      const next = waiter.lotNext;
      yield waiter;
      waiter = next;
    }
  }

  #append(waiter: Waiter<T>): void {
    // A waiter moved in from another lot keeps its abort callback, which removes it from
    // `waiter.lot` (whatever lot it is in by then), so moving needs no new callback.
    waiter.lot = this;
    const head = this.#head;
    if (head === null) {
      waiter.lotPrev = waiter.lotNext = waiter;
      this.#head = waiter;
    } else {
      const tail = head.lotPrev!;
      waiter.lotPrev = tail;
      waiter.lotNext = head;
      tail.lotNext = waiter;
      head.lotPrev = waiter;
    }
    this.#size++;
  }
}

/** The abort callback of every parked waiter: leave whatever lot it is in now. */
function leaveLot(waiter: Waiter<any>): void {
  (waiter.lot as ParkingLot<any> | null)?.remove(waiter);
}
