/**
 * How each side finds the other when calls are nested (Quartet → effection →
 * Quartet → effection …).
 *
 * - effection code does not run in any particular async context (it resumes
 *   from whatever callback settled what it waited for), so the Quartet side it
 *   came from is kept in an effection context: the {@link Portal} of the
 *   `fromOperation()` call that runs it. `toOperation()` runs its function as a
 *   task of that portal, under the caller's cancel scope.
 * - Quartet code does run in an async context, so the effection scope that a
 *   `toOperation()` function was called from is kept in an AsyncLocalStorage:
 *   a `fromOperation()` inside it runs its operation as a child of that scope,
 *   and sees its effection contexts.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { TaskGroup } from "@quartet/core";
import { createContext, type Scope } from "effection";

/** The effection scope of the innermost `toOperation()` the calling Quartet code runs in. */
export const enclosingScope = new AsyncLocalStorage<Scope>();

/** How a call on the other side ended: its value or its error, as they are. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * The Quartet side of a `fromOperation()` call, for the effection code it runs:
 * the task group (under the caller's cancel scope) that `toOperation()` runs its
 * functions in. Closed when `fromOperation()` returns.
 */
export class Portal {
  #open = true;
  /** Whether `fromOperation()` has begun to halt the operation. */
  halting = false;
  readonly #group: TaskGroup;

  constructor(group: TaskGroup) {
    this.#group = group;
  }

  /**
   * Whether the operation is about to be halted: the calling scope has been
   * cancelled, and `fromOperation()` has not begun the halt yet.
   */
  get haltPending(): boolean {
    return !this.halting && this.#group.cancelScope.signal.aborted;
  }

  close(): void {
    this.#open = false;
  }

  /** Runs `fn` as a task of the group; resolves with how it ended (never rejects). */
  run<T>(fn: () => Promise<T>, name: string): Promise<Outcome<T>> {
    if (!this.#open) {
      const error = new Error("toOperation() was called from effection code whose fromOperation() call has already returned");
      return Promise.resolve({ ok: false, error });
    }
    return new Promise((resolve) => {
      this.#group.spawn(() => fn().then((value) => resolve({ ok: true, value }), (error: unknown) => resolve({ ok: false, error })), { name });
    });
  }
}

/** The portal of the `fromOperation()` call the effection code runs under. */
export const PortalContext = createContext<Portal>("@quartet/effection.portal");

/** Resolves with how `promise` ended; never rejects. */
export function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error }));
}
