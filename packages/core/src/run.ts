/**
 * `run()`: a program's own root scope and clock.
 *
 * @module
 */

import { CancelNode } from "./core/cancel-node.js";
import { currentRun, runInContext } from "./core/context.js";
import { Runtime, systemClock, type Clock, type RunHooks } from "./core/runtime.js";
import { Task, noteTaskOf } from "./core/task.js";
import { DeadlockError } from "./core/errors.js";
import { instrumentStarted, instruments, taskWrappers, wrapTaskBody, type Thrown } from "./core/instruments.js";
import { formatTree, taskTreeOf } from "./core/task-tree.js";
import { traceFromEnvironment } from "./trace.js";
import { describe, requireBoolean, requireFunction, requireOptionalObject } from "./core/validate.js";

/**
 * Closes the streams the run opened and never closed (cancelling their producers and waiting
 * for their cleanup), including any that closing opens. A producer's unseen failure is thrown.
 */
async function closeLeftovers(runtime: Runtime): Promise<void> {
  let failure: { error: unknown } | null = null;
  while (runtime.leftovers.size > 0) {
    const outcomes = await Promise.allSettled([...runtime.leftovers].map((leftover) => leftover.close()));
    for (const outcome of outcomes) if (outcome.status === "rejected") failure ??= { error: outcome.reason };
  }
  if (failure !== null) throw failure.error;
}

/**
 * Options of {@link run}.
 *
 * @example
 * ```ts
 * import { now, run, sleep } from "@quartet/core";
 * import { MockClock } from "@quartet/testing";
 *
 * await run(async () => {
 *   await sleep(60_000); // on the virtual clock: no real waiting
 *   console.log(now()); // 60000
 * }, { clock: new MockClock({ autojumpThreshold: 0 }) });
 * ```
 */
export interface RunOptions {
  /** The clock the run's deadlines and sleeps use. Default: the system's monotonic clock. */
  clock?: Clock;
  /**
   * Debugging mode: every blocked operation records since when and from where
   * (the first stack frame outside Quartet), shown by the task tree, and every
   * cancellation records the stack of its `cancel()` call in its `origin`.
   * Costs a stack capture per blocking operation. Default: on if the
   * environment has `QUARTET_DEBUG=1`.
   */
  debug?: boolean;
}

/**
 * Runs `main` as the root task of a new run, with its own root cancel scope
 * and clock, and returns what `main` returns.
 *
 * Quartet's primitives also work outside any `run()` (in an implicit root scope
 * on the system clock); `run()` is for giving a program or a test its own clock,
 * such as a virtual one. Runs do not nest: calling `run()` inside a run throws.
 *
 * With `QUARTET_TRACE=<file>` in the environment, the first `run()` of the
 * process starts writing a trace of every task to that file (see `traceToFile`
 * in `@quartet/core/lowlevel`), finished when the process exits.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "@quartet/core";
 * await run(async () => {
 *   await taskGroup(async (tg) => {
 *     tg.spawn(() => sleep(10));
 *   });
 * });
 * ```
 */
export async function run<T>(main: () => Promise<T> | T, options?: RunOptions): Promise<T> {
  requireFunction(main, "run() main");
  requireOptionalObject(options, "run() options");
  const clock = options?.clock ?? systemClock;
  if (clock === null || typeof clock !== "object" || typeof clock.now !== "function" || typeof clock.wakeAt !== "function") {
    throw new TypeError(`run() clock must be an object with now() and wakeAt() methods; got ${describe(clock)}`);
  }
  if (currentRun() !== null) {
    throw new Error("run() was called inside another run(); use taskGroup() or a CancelScope inside the run instead");
  }
  if (options?.debug !== undefined) requireBoolean(options.debug, "run() debug option");
  traceFromEnvironment(); // QUARTET_TRACE=file: the first run starts a trace of the process
  const runtime = new Runtime(clock);
  if (options?.debug !== undefined) runtime.debug = options.debug;
  const root = new CancelNode();
  root.attachRoot(runtime);
  const hooks: RunHooks = {
    whenIdle: (callback, cushion) => runtime.whenIdle(callback, cushion),
    taskTree: () => taskTreeOf(root, runtime),
  };
  clock.attach?.(hooks);
  const task = new Task(root, main.name || "main");
  root.task = task;
  runtime.taskStarted(task);
  if (instruments !== null) instrumentStarted(task);
  const watch = new DeadlockWatch(root, runtime);
  let thrown: Thrown | undefined;
  try {
    let result: T;
    try {
      const body = taskWrappers === null ? runInContext(task, main) : wrapTaskBody(task, () => runInContext(task, main));
      result = await watch.race(Promise.resolve(body));
    } catch (error) {
      if (instruments !== null) thrown = { error }; // for taskExited
      if (watch.error !== null) throw watch.error;
      noteTaskOf(error, task.name);
      await watch.race(runInContext(task, closeLeftovers, runtime)).catch(() => {}); // main's error is the one to report
      throw error;
    }
    await watch.race(runInContext(task, closeLeftovers, runtime));
    if (watch.error !== null) throw watch.error; // main caught the deadlock's cancellation: the run still failed
    return result;
  } catch (error) {
    throw watch.error ?? error;
  } finally {
    watch.stop();
    runtime.taskEnded(task, thrown);
    runtime.close();
    clock.detach?.(hooks);
  }
}

/**
 * Watches a run for a deadlock: when the process is about to exit ('beforeExit':
 * the event loop has nothing left to do) while every task of the run is blocked
 * in a Quartet operation, nothing can ever wake them. Another 'beforeExit'
 * listener may still schedule work that wakes them, so the watch turns the event
 * loop once more and decides at the next 'beforeExit': if nothing happened in
 * between, the run is cancelled with a DeadlockError holding the task tree, so
 * cleanup runs; if the cleanup deadlocks too, the run is abandoned and rejects
 * at once.
 */
class DeadlockWatch {
  error: DeadlockError | null = null;
  /** The run's generation when a deadlock was suspected at the last 'beforeExit', or -1. */
  #suspected = -1;
  readonly #root: CancelNode;
  readonly #runtime: Runtime;
  #abandon: (error: unknown) => void = () => {};
  readonly #abandoned: Promise<never>;

  constructor(root: CancelNode, runtime: Runtime) {
    this.#root = root;
    this.#runtime = runtime;
    this.#abandoned = new Promise<never>((_, reject) => (this.#abandon = reject));
    this.#abandoned.catch(() => {});
    watchExit(this);
  }

  race<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.#abandoned]);
  }

  /** The process is about to exit. */
  check(): void {
    const runtime = this.#runtime;
    if (runtime.tasksLiving === 0 || runtime.tasksBlocked !== runtime.tasksLiving) {
      this.#suspected = -1;
      return;
    }
    if (this.#suspected !== runtime.generation) {
      this.#suspected = runtime.generation;
      setImmediate(noop); // one more turn of the event loop, for work other listeners scheduled
      return;
    }
    this.#suspected = -1;
    if (this.error !== null) {
      this.#abandon(this.error);
      return;
    }
    const tree = formatTree(taskTreeOf(this.#root, runtime));
    this.error = new DeadlockError(`deadlock: every task of the run is blocked in a Quartet operation and nothing can wake them\n${tree}`);
    this.#root.cancel(this.error, "deadlock");
    // The cleanup runs from promise jobs; a macrotask makes sure the event loop turns again, so
    // that 'beforeExit' comes again if the cleanup deadlocks too.
    setImmediate(noop);
  }

  stop(): void {
    unwatchExit(this);
  }
}

function noop(): void {}

/** The runs being watched, and the one 'beforeExit' listener that checks them. */
const watched = new Set<DeadlockWatch>();
const onBeforeExit = (): void => {
  for (const watch of [...watched]) watch.check();
};

function watchExit(watch: DeadlockWatch): void {
  if (watched.size === 0) process.on("beforeExit", onBeforeExit);
  watched.add(watch);
}

function unwatchExit(watch: DeadlockWatch): void {
  watched.delete(watch);
  if (watched.size === 0) process.off("beforeExit", onBeforeExit);
}
