/**
 * `fromOperation()` and `toOperation()`: effection operations in Quartet code,
 * and Quartet functions in effection code, each cancelled by the other side.
 *
 * @module
 */

import { CancelScope, isCancelled, taskGroup, type TaskGroup } from "@quartet/core";
import { cancelWithOrigin, parkCurrentTask, type ParkedWait } from "@quartet/core/lowlevel";
import { Err, global as globalScope, Ok, scoped, type Effect, type Operation, type Scope } from "effection";
import { enclosingScope, Portal, PortalContext, settle, type Outcome } from "./internal/portal.js";
import { describe, isOperation, requireFunction, requireOptionalObject } from "./internal/validate.js";

/**
 * Options of {@link fromOperation}.
 *
 * @example
 * ```ts
 * import { createContext, createScope, type Operation } from "effection";
 * import { fromOperation } from "@quartet/effection";
 *
 * const User = createContext<string>("user");
 * const [scope, destroy] = createScope();
 * scope.set(User, "alice");
 * function* greet(): Operation<string> {
 *   return `hello ${yield* User.expect()}`;
 * }
 * console.log(await fromOperation(greet, { scope })); // "hello alice"
 * await destroy();
 * ```
 */
export interface FromOperationOptions {
  /**
   * The effection scope to run the operation in: it sees that scope's contexts
   * and is halted if the scope is destroyed first. Default: the scope of the
   * `toOperation()` call the calling code runs in, if any, else effection's
   * global scope.
   */
  scope?: Scope;
}

/**
 * Runs an effection operation from Quartet code and returns its value, or
 * throws its error (the same object). `operation` is an `Operation` or, as
 * effection's own `run()` takes it, a function that returns one (such as a
 * generator function).
 *
 * The operation runs in an effection task of its own. While it runs, the
 * calling Quartet task is blocked in a checkpoint (`fromOperation` in the task
 * tree; it counts as blocked for `waitAllTasksBlocked` and deadlock detection).
 * When the calling scope is cancelled, the task is halted, and
 * `fromOperation()` throws the `Cancelled` only once the halt has finished: the
 * operation's `finally` blocks and its resources' cleanup have run. (If that
 * cleanup throws, its error is thrown instead, as a `finally` block's error
 * replaces the exception in JavaScript.) Called in a scope that is already
 * cancelled, it throws without starting the operation.
 *
 * Functions the operation runs with {@link toOperation} run as tasks under the
 * calling scope, so its cancellation reaches them directly. Called inside
 * such a function, `fromOperation()` runs its operation as a child of the
 * enclosing effection scope (with its contexts), unless `options.scope` says
 * otherwise.
 *
 * @example
 * ```ts
 * import { moveOnAfter } from "@quartet/core";
 * import { sleep, type Operation } from "effection";
 * import { fromOperation } from "@quartet/effection";
 *
 * function* slowAnswer(): Operation<number> {
 *   try {
 *     yield* sleep(60_000);
 *     return 42;
 *   } finally {
 *     console.log("effection cleaned up"); // runs before moveOnAfter returns
 *   }
 * }
 * console.log(await fromOperation(function* () { return 1 + 1; })); // 2
 * console.log(await moveOnAfter(10, () => fromOperation(slowAnswer))); // undefined
 * ```
 */
export async function fromOperation<T>(operation: Operation<T> | (() => Operation<T>), options?: FromOperationOptions): Promise<T> {
  let body: () => Operation<T>;
  let name: string | undefined;
  if (typeof operation === "function") {
    body = operation;
    name = operation.name || undefined;
  } else if (isOperation(operation)) {
    body = () => operation;
  } else {
    throw new TypeError(`fromOperation() operation must be an effection Operation or a function that returns one; got ${describe(operation)}`);
  }
  requireOptionalObject(options, "fromOperation() options");
  const scope = options?.scope ?? enclosingScope.getStore() ?? globalScope;
  if (scope === null || typeof scope !== "object" || typeof (scope as Partial<Scope>).run !== "function") {
    throw new TypeError(`fromOperation() scope must be an effection Scope if given; got ${describe(scope)}`);
  }
  const waitsFor: ParkedWait = name === undefined ? WAIT : { ...WAIT, name };
  // The group is the portal's: toOperation() runs functions in it, under the calling scope.
  return (await taskGroup((group) => runInEffection(group, scope, body, waitsFor))) as T;
}

/** What a task blocked in fromOperation() waits in, for the task tree. */
const WAIT: ParkedWait = Object.freeze({ operation: "fromOperation", object: "effection operation" });

async function runInEffection<T>(group: TaskGroup, scope: Scope, body: () => Operation<T>, waitsFor: ParkedWait): Promise<T> {
  const parked = parkCurrentTask<void>(undefined, waitsFor); // throws Cancelled if the scope is already cancelled
  const portal = new Portal(group);
  // Set by the task even while it is halted (then: the error its cleanup threw, if any).
  let outcome: Outcome<T> | undefined;
  const task = scope.run(function* fromOperation() {
    yield* PortalContext.set(portal);
    try {
      // scoped(): an error boundary, so that a failure of the operation's own
      // children arrives here, not in the effection scope around the call.
      outcome = { ok: true, value: yield* scoped(body) };
    } catch (error) {
      outcome = { ok: false, error };
    }
  });
  // The task settles after its scope has been destroyed (every child halted, every finally run).
  task.then(
    () => parked.wake(),
    () => parked.fail(new Error("fromOperation(): the effection scope the operation ran in was destroyed before it finished")),
  );
  try {
    await parked.promise;
  } catch (error) {
    // Cancelled (or the scope was destroyed): halt the operation and wait until its cleanup is done.
    portal.halting = true;
    await task.halt();
    if (outcome !== undefined && !outcome.ok) throw outcome.error;
    throw error;
  } finally {
    portal.close();
  }
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.value;
}

/**
 * An effection operation that runs the Quartet function `fn(...args)` and
 * returns its value, or throws its error (the same object). Each time the
 * operation is run, `fn` is called again, as with effection's `call()`.
 *
 * `fn` runs in a cancel scope of its own (named after `fn`). When the effection
 * task halts, that scope is cancelled with `origin.kind` `"halt"`, and the halt
 * goes on only once `fn` has finished: its `finally` blocks and disposers have
 * run. (An error other than the cancellation that `fn` throws while unwinding
 * is thrown by the halt.)
 *
 * Where `fn` runs: inside an operation that {@link fromOperation} runs, `fn` is
 * a task under the scope that called `fromOperation()` (so that scope's
 * cancellation, deadline and clock apply to it, and it shows in the task tree).
 * In effection code that Quartet did not start (an effection `main()`), there
 * is no enclosing Quartet scope: `fn` runs in whatever Quartet scope the
 * effection code runs in (the implicit root, unless that code was started from
 * Quartet without `fromOperation()`), cancelled only by the halt.
 *
 * @example
 * ```ts
 * import { run as runEffection } from "effection";
 * import { moveOnAfter, sleep } from "@quartet/core";
 * import { toOperation } from "@quartet/effection";
 *
 * async function fetchGreeting(name: string): Promise<string> {
 *   const greeting = await moveOnAfter(1000, async () => {
 *     await sleep(10); // stands for a request with a deadline
 *     return `hello ${name}`;
 *   });
 *   return greeting ?? "too slow";
 * }
 * await runEffection(function* () {
 *   console.log(yield* toOperation(fetchGreeting, "alice")); // "hello alice"
 * });
 * ```
 */
export function toOperation<A extends unknown[], T>(fn: (...args: A) => Promise<T> | T, ...args: A): Operation<T> {
  requireFunction(fn, "toOperation() fn");
  const name = fn.name || "toOperation";
  return {
    *[Symbol.iterator]() {
      const outcome = (yield callInQuartet(fn, args, name)) as Outcome<T>;
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    },
  };
}

/**
 * The one effect of a `toOperation()` call: it starts the call (as a task of
 * the portal, if the effection task runs under a `fromOperation()`) and resolves
 * with how it ended. When the effection task halts while the call runs, the
 * effect's exit cancels the call and lets the task go on unwinding only once the
 * call has finished. (A `yield*` in a `finally` block cannot do this: effection
 * resumes such a block with `next()`, which ends the unwinding of the
 * generators that delegated to it.)
 *
 * A `Cancelled` that comes from the cancellation of the `fromOperation()`
 * caller before it has begun to halt the effection task is not delivered: the
 * halt is coming, so the operation sees a halt (as it would in effection), not
 * a Quartet error. (Once the halt has begun, cleanup code that calls
 * `toOperation()` gets what its function threw, a `Cancelled` too.)
 */
function callInQuartet<A extends unknown[], T>(fn: (...args: A) => Promise<T> | T, args: A, name: string): Effect<Outcome<T>> {
  return {
    description: `toOperation(${name})`,
    enter(resolve, routine) {
      const scope = routine.scope;
      const portal = scope.get(PortalContext);
      const cancelScope = new CancelScope({ name });
      // CancelScope.run() turns a synchronous throw of fn into a rejection, and awaits what it returns.
      const call = () => enclosingScope.run(scope, () => cancelScope.run(() => fn(...args)) as Promise<T>);
      const settled = portal === undefined ? settle(call()) : portal.run(call, name);
      let finished = false;
      void settled.then((outcome) => {
        finished = true;
        if (!outcome.ok && portal !== undefined && portal.haltPending && isCancelled(outcome.error)) return;
        resolve(Ok(outcome));
      });
      return (exited) => {
        if (finished) return exited(Ok());
        // Halted while the call runs: cancel it, and wait for its cleanup.
        cancelWithOrigin(cancelScope, "halt", `the effection task that ran ${name}() was halted`);
        void settled.then((last) => exited(last.ok || isCancelled(last.error) ? Ok() : Err(last.error)));
      };
    },
  };
}
