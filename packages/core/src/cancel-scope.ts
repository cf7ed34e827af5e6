/**
 * Cancel scopes: the unit of cancellation.
 *
 * @module
 */

import { CancelNode } from "./core/cancel-node.js";
import { current, runInContext } from "./core/context.js";
import { cancellationOf } from "./core/errors.js";
import { instruments, scopeWrappers, wrapScopeBody, type Thrown } from "./core/instruments.js";
import { requireBoolean, requireDeadline, requireFunction, requireOptionalName, requireOptionalObject } from "./core/validate.js";

/**
 * Options of the `CancelScope` constructor.
 *
 * @example
 * ```ts
 * import { CancelScope, now, sleep } from "@quartet/core";
 *
 * const outer = new CancelScope({ deadline: now() + 10 });
 * await outer.run(async () => {
 *   const cleanup = new CancelScope({ shield: true });
 *   await cleanup.run(() => sleep(50)); // runs to the end: the shield keeps the outer deadline out
 *   console.log(outer.cancelCalled); // true: the deadline passed meanwhile
 * });
 * ```
 */
export interface CancelScopeOptions {
  /** Absolute time on the runtime clock (see `now()`) at which the scope cancels itself. Default `Infinity`. */
  deadline?: number;
  /** Whether cancellation from outside the scope is kept out. Default `false`. */
  shield?: boolean;
  /** A name for the scope, shown in the task tree and in the `origin` of its cancellation. */
  name?: string;
}

/** @internal The cancel-tree node of a scope, for the task group that enters it. */
export let nodeOf: (scope: CancelScope) => CancelNode;

/** @internal Cancels `scope` with an origin of the given kind (lowlevel's `cancelWithOrigin`). */
export let cancelWithKind: (scope: CancelScope, kind: string, reason: unknown) => void;

/**
 * @internal Whether a `Cancelled` (or an AbortError standing for one) that
 * reached the end of `scope` stops there; records `cancelledCaught` if so. Must
 * be called before the scope's node is detached.
 */
export let catchesAtExit: (scope: CancelScope, error: unknown) => boolean;

/**
 * A region of code that can be cancelled as a whole: `cancel()` makes every
 * checkpoint inside it (and inside every scope nested in it, except behind a
 * shield) throw {@link Cancelled}, which unwinds the code running there back
 * to the scope, where it is caught.
 *
 * A scope is entered once, with `run(body)`. Cancellation is level-triggered:
 * once cancelled, every checkpoint in the scope throws, not only the first.
 * When a `Cancelled` reaches the end of `run`, the scope catches it if it is
 * cancelled itself and no cancellation from further out is visible to it; `run`
 * then returns `undefined` and `cancelledCaught` becomes true.
 *
 * @example
 * ```ts
 * import { CancelScope, now, sleep } from "@quartet/core";
 * const scope = new CancelScope({ deadline: now() + 50 });
 * const result = await scope.run(async () => {
 *   await sleep(1000);
 *   return "finished";
 * });
 * console.log(result, scope.cancelledCaught); // undefined true
 * ```
 */
export class CancelScope {
  readonly #node: CancelNode = new CancelNode();
  #cancelledCaught = false;

  static {
    nodeOf = (scope) => scope.#node;
    cancelWithKind = (scope, kind, reason) => scope.#node.cancel(reason, kind);
    catchesAtExit = (scope, error) => scope.#catches(error);
  }

  constructor(options?: CancelScopeOptions) {
    requireOptionalObject(options, "CancelScope options");
    if (options?.deadline !== undefined) {
      requireDeadline(options.deadline, "CancelScope deadline");
      this.#node.deadline = options.deadline;
    }
    if (options?.shield !== undefined) {
      requireBoolean(options.shield, "CancelScope shield");
      this.#node.shield = options.shield;
    }
    requireOptionalName(options?.name, "CancelScope name");
    this.#node.name = options?.name;
    this.#node.owner = this;
  }

  /** The name given to the constructor, if any. */
  get name(): string | undefined {
    return this.#node.name;
  }

  /**
   * Runs `body` inside this scope and returns its result, or `undefined` if the
   * scope caught a cancellation. A scope can be run only once.
   */
  async run<T>(body: (scope: CancelScope) => Promise<T> | T): Promise<T | undefined> {
    requireFunction(body, "CancelScope.run() body");
    const node = this.#node;
    if (node.entered) throw new Error("CancelScope.run() was called on a scope that has already been run; create a new CancelScope for each run");
    const outer = current();
    node.attach(outer.node, outer.task);
    let thrown: Thrown | undefined;
    try {
      return await (scopeWrappers === null ? runInContext(node, body, this) : wrapScopeBody(node, () => runInContext(node, body, this)));
    } catch (error) {
      if (this.#catches(error)) return undefined;
      if (instruments !== null) thrown = { error }; // for scopeExited
      throw error;
    } finally {
      node.detach(thrown);
    }
  }

  /**
   * Cancels the scope: every checkpoint inside it throws `Cancelled` from now on.
   * `reason` becomes the `reason` of that `Cancelled` (and of `signal.reason`).
   * Calling it again, or after the scope has exited, does nothing.
   */
  cancel(reason?: unknown): void {
    this.#node.cancel(reason);
  }

  /**
   * The absolute time (ms on the runtime clock) at which the scope cancels
   * itself; `Infinity` for none. Setting it while the scope runs re-arms it; a
   * deadline that has already passed cancels the scope at once.
   */
  get deadline(): number {
    return this.#node.deadline;
  }

  set deadline(deadline: number) {
    requireDeadline(deadline, "CancelScope deadline");
    this.#node.setDeadline(deadline);
  }

  /** Whether cancellation from outside (enclosing scopes and their deadlines) is kept out of this scope. Settable at any time. */
  get shield(): boolean {
    return this.#node.shield;
  }

  set shield(shield: boolean) {
    requireBoolean(shield, "CancelScope shield");
    this.#node.setShield(shield);
  }

  /** Whether `cancel()` was called or the deadline passed (also before the scope is entered, as in trio). */
  get cancelCalled(): boolean {
    return this.#checkDeadline();
  }

  /** Whether the scope caught a `Cancelled` when `run` ended. */
  get cancelledCaught(): boolean {
    return this.#cancelledCaught;
  }

  /**
   * An AbortSignal that aborts when the scope is effectively cancelled (by its
   * own `cancel()` or deadline, or by an enclosing scope not kept out by a
   * shield). Its `reason` is the `Cancelled`. It aborts once and never un-aborts.
   */
  get signal(): AbortSignal {
    this.#checkDeadline();
    return this.#node.signal;
  }

  /** A deadline that has passed counts even if no alarm fired yet (the scope is not entered, or the task is busy). */
  #checkDeadline(): boolean {
    const node = this.#node;
    if (node.cancelled !== null) return true;
    if (node.deadline === Infinity) return false;
    return node.checkDeadline((node.runtime ?? current().node.runtime!).now());
  }

  #catches(error: unknown): boolean {
    const node = this.#node;
    if (node.cancelled === null) return false;
    if (!node.shield && node.parent !== null && node.parent.effective !== null) return false;
    if (cancellationOf(error, node.effective) === undefined) return false;
    this.#cancelledCaught = true;
    return true;
  }
}
