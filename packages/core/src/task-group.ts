/**
 * Task groups (trio's nurseries): concurrency that never leaks a task.
 *
 * @module
 */

import { CancelScope, catchesAtExit, nodeOf } from "./cancel-scope.js";
import { CancelNode } from "./core/cancel-node.js";
import { current, enterContext, runInContext } from "./core/context.js";
import { Cancelled, TaskGroupError, cancellationOf } from "./core/errors.js";
import { CallSite } from "./core/debug.js";
import { instrumentStarted, instruments, scopeWrappers, taskWrappers, wrapScopeBody, wrapTaskBody, type Thrown } from "./core/instruments.js";
import { Task, noteTaskOf, taskName } from "./core/task.js";
import { requireFunction, requireOptionalName, requireOptionalObject } from "./core/validate.js";

/**
 * Options for a task: its name identifies it in `tasksOfError()` (and so in the
 * "in task" line `runMain` prints for a crash), in misuse messages of `Lock`
 * and `CapacityLimiter`, and in `currentTaskName()`.
 *
 * @example
 * ```ts
 * import { taskGroup } from "@quartet/core";
 * import { tasksOfError } from "@quartet/core/lowlevel";
 *
 * try {
 *   await taskGroup(async (tg) => {
 *     tg.spawn(async () => { throw new Error("disk full"); }, { name: "log writer" });
 *   });
 * } catch (err) {
 *   console.log(tasksOfError(err)); // ["log writer"]: where the error came from
 * }
 * ```
 */
export interface TaskOptions {
  name?: string;
}

/**
 * The handle a `taskGroup` body gets to start tasks in the group. Every task
 * started here has finished by the time `taskGroup` returns.
 *
 * @example
 * ```ts
 * import { sleep, taskGroup, type TaskGroup } from "@quartet/core";
 *
 * function startHeartbeat(tg: TaskGroup): void {
 *   tg.spawn(async () => {
 *     for (;;) { await sleep(1000); console.log("tick"); }
 *   }, { name: "heartbeat" });
 * }
 * await taskGroup(async (tg) => {
 *   startHeartbeat(tg); // the heartbeat cannot outlive this block
 *   await sleep(3500); // tick, tick, tick
 *   tg.cancelScope.cancel(); // stops the heartbeat; taskGroup returns
 * });
 * ```
 */
export interface TaskGroup {
  /**
   * Starts `fn()` as a new task in the group, from a later microtask (never
   * inside this call). If the task fails, the group is cancelled and the error
   * is thrown by `taskGroup`. Throws if the group has already finished.
   */
  spawn(fn: () => Promise<unknown>, options?: TaskOptions): void;
  /**
   * Starts `fn(status)` as a new task and waits until it calls
   * `status.started(value)`; resolves with that value. Until then the task
   * belongs to the caller: cancelling the caller cancels it, and an error it
   * throws is thrown here (after its cleanup). `started()` moves it into this
   * group. Throws if the task returns without calling `started()`.
   */
  start<T = void>(fn: (status: TaskStatus<T>) => Promise<unknown>, options?: TaskOptions): Promise<T>;
  /** The cancel scope the body and every task of the group run in: `tg.cancelScope.cancel()` stops them all. */
  readonly cancelScope: CancelScope;
}

/**
 * Passed to a task started with `TaskGroup.start`: call `started(value)` once
 * the task is ready to be used. The type parameter is the type of the value;
 * with `TaskStatus` (void) call `started()` with no argument. `started` needs
 * no `this`: it may be passed on by itself, as a callback.
 *
 * @example
 * ```ts
 * import { sleepForever, taskGroup, type TaskStatus } from "@quartet/core";
 *
 * async function listen(status: TaskStatus<number>): Promise<void> {
 *   const port = 8080; // bind a socket here
 *   status.started(port); // tg.start() returns now; the task goes on in the group
 *   await sleepForever(); // serve until cancelled
 * }
 * await taskGroup(async (tg) => {
 *   console.log(await tg.start(listen)); // 8080
 *   tg.cancelScope.cancel();
 * });
 * ```
 */
export interface TaskStatus<T = void> {
  started(value: T): void;
}

/**
 * A `TaskStatus` whose `started()` does nothing, so that a function written for
 * `tg.start()` can also be called and awaited directly.
 *
 * @example
 * ```ts
 * import { TASK_STATUS_IGNORED, type TaskStatus } from "@quartet/core";
 * async function serve(status: TaskStatus<number> = TASK_STATUS_IGNORED) {
 *   status.started(8080);
 * }
 * await serve();
 * ```
 */
export const TASK_STATUS_IGNORED: TaskStatus<any> = Object.freeze({ started(): void {} });

/**
 * Runs `body` with a new task group, then waits until every task spawned into
 * the group has finished, and returns the body's result.
 *
 * The body and the tasks run inside `tg.cancelScope`. The first failure (of the
 * body or of a task; a `Cancelled` is not a failure) cancels that scope, so the
 * others unwind; once all have finished, a single failure is thrown as it is and
 * several as a {@link TaskGroupError} in the order they happened. Returns
 * `undefined` if the group's own scope caught a cancellation before the body
 * returned.
 *
 * @example
 * ```ts
 * import { sleep, taskGroup } from "@quartet/core";
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => { await sleep(10); console.log("first"); });
 *   tg.spawn(async () => { await sleep(20); console.log("second"); });
 * });
 * console.log("both done");
 * ```
 */
export async function taskGroup<T>(body: (tg: TaskGroup) => Promise<T> | T, options?: TaskOptions): Promise<T | undefined> {
  requireFunction(body, "taskGroup() body");
  requireOptionalObject(options, "taskGroup() options");
  requireOptionalName(options?.name, "taskGroup() name");
  return new TaskGroupImpl(options?.name).run(body);
}

class TaskGroupImpl implements TaskGroup {
  readonly cancelScope = new CancelScope();
  readonly #name: string | undefined;
  readonly #node: CancelNode;
  /** Tasks that belong to the group: spawned ones, and started ones that have moved in. */
  #running = 0;
  /** `start()` calls into this group whose task has neither started nor ended. They keep the group open. */
  #pendingStarts = 0;
  readonly #errors: unknown[] = [];
  #cancelled: Cancelled | null = null;
  #closed = false;
  /** Spawned children waiting for their start (see `spawn`). */
  #pending: Child[] = [];
  /** The living spawned tasks, as an intrusive list (for the task tree). */
  #first: Child | null = null;
  #last: Child | null = null;
  #onIdle: (() => void) | null = null;

  constructor(name: string | undefined) {
    this.#name = name;
    const node = (this.#node = nodeOf(this.cancelScope));
    node.kind = "group";
    node.name = name;
    node.owner = this;
  }

  async run<T>(body: (tg: TaskGroup) => Promise<T> | T): Promise<T | undefined> {
    const outer = current();
    const node = this.#node;
    node.attach(outer.node, outer.task);
    // With debugging on, where the group was opened: by the time it waits for its children, the
    // caller's frame is no longer on the stack.
    const site = node.runtime!.debug ? new CallSite() : undefined;
    let value: T | undefined;
    let returned = false;
    try {
      value = await (scopeWrappers === null ? runInContext(node, body, this) : wrapScopeBody(node, () => runInContext(node, body, this)));
      returned = true;
    } catch (error) {
      this.#record(error, outer.task.name);
    }
    if (this.#running > 0 || this.#pendingStarts > 0) {
      // Waiting for children is blocking in a Quartet operation (for idle detection), but not a
      // checkpoint: cancellation reaches the children through the scope, and they end the wait.
      const runtime = node.runtime!;
      runtime.blockFor(outer.task, { operation: "wait for children", object: "task group", name: this.#name }, site);
      await new Promise<void>((resolve) => (this.#onIdle = resolve));
      runtime.unblockFor(outer.task);
    }
    // Closed already if it waited: #checkIdle closes the group when it stops waiting.
    this.#closed = true;
    let thrown: Thrown | undefined;
    try {
      const errors = this.#errors;
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new TaskGroupError(errors, this.#name);
      const cancelled = this.#cancelled;
      if (cancelled !== null) {
        if (catchesAtExit(this.cancelScope, cancelled)) return returned ? value : undefined;
        throw cancelled;
      }
      return value;
    } catch (error) {
      if (instruments !== null) thrown = { error }; // for scopeExited
      throw error;
    } finally {
      node.detach(thrown);
    }
  }

  spawn(fn: () => Promise<unknown>, options?: TaskOptions): void {
    if (typeof fn !== "function") requireFunction(fn, "spawn() task");
    if (options !== undefined) {
      requireOptionalObject(options, "spawn() options");
      requireOptionalName(options.name, "spawn() name");
    }
    if (this.#closed) throw new Error(`spawn() into ${this.#describe()} that has already finished`);
    this.#running++;
    const child = new Child(this.#node, taskName(fn, options?.name), fn);
    this.#link(child);
    // The spawning task is looked up only for instruments: finding the current context costs a little.
    if (instruments === null) this.#node.runtime!.taskStarted(child);
    else this.#node.runtime!.taskStarted(child, current().task, this.#node, "spawn");
    // Children start together, from one microtask after the spawn() calls: never inside spawn().
    this.#pending.push(child);
    if (this.#pending.length === 1) queueMicrotask(this.#startPending);
  }

  /**
   * Starts the children spawned since the last microtask, each in its own
   * context. Runs only as a `queueMicrotask` callback, so it can enter each
   * child's context in turn and leave the last one entered: the microtask's
   * caller restores the context when the callback returns.
   */
  readonly #startPending = (): void => {
    const pending = this.#pending;
    this.#pending = [];
    for (const child of pending) {
      enterContext(child);
      runChild(child);
    }
  };

  async start<T = void>(fn: (status: TaskStatus<T>) => Promise<unknown>, options?: TaskOptions): Promise<T> {
    requireFunction(fn, "start() task");
    requireOptionalObject(options, "start() options");
    requireOptionalName(options?.name, "start() name");
    if (this.#closed) throw new Error(`start() into ${this.#describe()} that has already finished`);
    const caller = current();
    const node = new CancelNode();
    node.kind = "start";
    const task = new Task(node, taskName(fn, options?.name));
    const status = new StartStatus<T>(this, node, task, caller.task);
    node.owner = status;
    node.attach(caller.node, task);
    this.#pendingStarts++;
    const runtime = node.runtime!;
    runtime.taskStarted(task, caller.task, this.#node, "start");
    runInContext(task, runStarting, fn, status);
    // Waiting for started() (not a checkpoint: the task is cancelled with the caller).
    runtime.blockFor(caller.task, { operation: "wait for started()", object: "task", name: task.name });
    try {
      return await status.promise;
    } finally {
      runtime.unblockFor(caller.task);
      this.#pendingStarts--;
      this.#checkIdle();
    }
  }

  /** A task started with `start()` called `started()`: it now belongs to this group. */
  adopt(node: CancelNode): void {
    if (this.#closed) throw new Error(`started() into ${this.#describe()} that has already finished`);
    this.#running++;
    node.reparent(this.#node);
  }

  /** A spawned task of this group has finished, with `error` if `failed`. */
  spawnedEnded(child: Child, failed: boolean, error: unknown): void {
    this.#unlink(child);
    this.childEnded(failed, error, child.name);
  }

  /** The spawned tasks of the group that are alive, in the order they were spawned (for the task tree). */
  spawned(): Task[] {
    const tasks: Task[] = [];
    for (let child = this.#first; child !== null; child = child.nextSibling) tasks.push(child);
    return tasks;
  }

  #link(child: Child): void {
    const last = this.#last;
    child.prevSibling = last;
    if (last === null) this.#first = child;
    else last.nextSibling = child;
    this.#last = child;
  }

  #unlink(child: Child): void {
    const { prevSibling: prev, nextSibling: next } = child;
    if (prev === null) this.#first = next;
    else prev.nextSibling = next;
    if (next === null) this.#last = prev;
    else next.prevSibling = prev;
    child.prevSibling = child.nextSibling = null;
  }

  /** A task of this group has finished, with `error` if `failed`. */
  childEnded(failed: boolean, error: unknown, name: string): void {
    if (failed) this.#record(error, name);
    this.#running--;
    this.#checkIdle();
  }

  /** A failure (or cancellation) of the body or of the task `name`. */
  #record(error: unknown, name: string): void {
    const cancelled = cancellationOf(error, this.#node.effective);
    if (cancelled !== undefined) {
      this.#cancelled ??= cancelled;
      return;
    }
    this.#errors.push(error);
    if (this.#errors.length === 1) {
      this.#node.cancel(error, "failure", { task: name, error });
    }
  }

  #checkIdle(): void {
    if (this.#running === 0 && this.#pendingStarts === 0 && this.#onIdle !== null) {
      const onIdle = this.#onIdle;
      this.#onIdle = null;
      // Refuse new tasks from this moment, not from when run() resumes a few microtasks later:
      // a task spawned in between would outlive the group.
      this.#closed = true;
      onIdle();
    }
  }

  #describe(): string {
    return this.#name === undefined ? "the task group" : `task group "${this.#name}"`;
  }
}

/** A spawned task: its own first context, with what it needs to run and report back. */
class Child extends Task {
  readonly fn: () => Promise<unknown>;
  prevSibling: Child | null = null;
  nextSibling: Child | null = null;

  /** `node` is the node of the group the child is spawned into (so the group is its owner). */
  constructor(node: CancelNode, name: string, fn: () => Promise<unknown>) {
    super(node, name);
    this.fn = fn;
  }

  end(failed: boolean, error: unknown): void {
    if (failed) noteTaskOf(error, this.name);
    this.node.runtime!.taskEnded(this, failed && instruments !== null ? { error } : undefined);
    (this.node.owner as TaskGroupImpl).spawnedEnded(this, failed, error);
  }
}

/**
 * Runs a child (in its own context) and reports its end to the group. Not an
 * async function, and no closures per child: the `then` callbacks are shared,
 * and find their child as the current context, because a promise reaction runs
 * in the context where `then` was called. A blocked task costs less memory so.
 */
function runChild(child: Child): void {
  if (instruments !== null) instrumentStarted(child);
  let result: unknown;
  try {
    result = taskWrappers === null ? child.fn() : wrapTaskBody(child, () => child.fn());
  } catch (error) {
    child.end(true, error);
    return;
  }
  // A promise with the built-in `then` (what an async function returns) is watched directly. Any
  // other value goes through Promise.resolve: a thenable's first settlement counts, once,
  // whatever it does later or however its `then` misbehaves (Promises/A+ 2.3.3), and a plain
  // value ends the task from a microtask, as an async function would.
  try {
    if (result instanceof Promise && result.then === promiseThen) result.then(childReturned, childThrew);
    else Promise.resolve(result).then(childReturned, childThrew);
  } catch (error) {
    child.end(true, error); // a Proxy or a getter that throws while being looked at
  }
}

const promiseThen = Promise.prototype.then;

function childReturned(): void {
  (current() as Child).end(false, undefined);
}

function childThrew(error: unknown): void {
  (current() as Child).end(true, error);
}

async function runStarting<T>(fn: (status: TaskStatus<T>) => Promise<unknown>, status: StartStatus<T>): Promise<void> {
  await undefined;
  const { node, task } = current();
  if (instruments !== null) instrumentStarted(task);
  let failed = false;
  let error: unknown;
  try {
    await (taskWrappers === null ? fn(status) : wrapTaskBody(task, () => fn(status)));
  } catch (thrown) {
    failed = true;
    error = thrown;
    noteTaskOf(thrown, task.name);
  }
  node.runtime!.taskEnded(task, failed && instruments !== null ? { error } : undefined);
  status.ended(failed, error);
}

/**
 * The status of a task being started. Before `started()` the task runs in its
 * own hidden cancel node under the caller's scope; `started()` reparents that
 * node (and so every scope and group nested in the task) under the group's.
 */
class StartStatus<T> implements TaskStatus<T> {
  readonly promise: Promise<T>;
  readonly #group: TaskGroupImpl;
  readonly #node: CancelNode;
  readonly #task: Task;
  #called = false;
  #moved = false;
  #ended = false;
  #value: T | undefined;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  /** The task that called `start()` (for the task tree: a task being started shows under it). */
  readonly caller: Task;

  /** Whether `started()` moved the task into the group (for the task tree). */
  get moved(): boolean {
    return this.#moved;
  }

  constructor(group: TaskGroupImpl, node: CancelNode, task: Task, caller: Task) {
    this.caller = caller;
    this.#group = group;
    this.#node = node;
    this.#task = task;
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** An arrow function, so that it can be passed on by itself: `server.once("listening", status.started)`. */
  readonly started = (value: T): void => {
    if (this.#called) throw new Error(`started() was called twice by task "${this.#task.name}"; start() keeps the first value`);
    if (this.#ended) throw new Error(`started() was called by task "${this.#task.name}" after it had returned`);
    this.#called = true;
    this.#value = value;
    // In a cancelled caller the task stays where it is and unwinds there; start() then throws the cancellation.
    if (this.#node.effective !== null) return;
    this.#group.adopt(this.#node);
    this.#moved = true;
    this.#resolve(value);
  };

  ended(failed: boolean, error: unknown): void {
    this.#ended = true;
    const node = this.#node;
    if (this.#moved) {
      node.detach();
      this.#group.childEnded(failed, error, this.#task.name);
      return;
    }
    node.detach();
    if (failed) this.#reject(error);
    else if (!this.#called) this.#reject(new Error(`task "${this.#task.name}" passed to start() returned without calling started()`));
    // started() was called while the caller was cancelled, and the task then returned normally:
    // start() resolves with the recorded value (the caller's next checkpoint throws), as trio's does.
    else this.#resolve(this.#value as T);
  }
}
