import { currentRunHooks, type RunHooks, type TaskTree, type TaskTreeScope, type TaskTreeTask } from "@quartet/core/lowlevel";
/**
 * What `runMain` does when Node is about to exit while `main` still runs
 * ('beforeExit': the event loop has nothing left to do, so every task waits in
 * a Quartet operation or on a promise that nothing will settle).
 *
 * A program waiting for a signal — a task in `sleepForever()` (or in another
 * operation that waits on no Quartet object), or on a promise from outside —
 * is kept alive: signal listeners do not keep the event loop alive, so Ctrl-C
 * could otherwise never end it. Any other program whose tasks are all blocked
 * can never go on: a deadlock, which `run()` reports itself (it confirms at the
 * next 'beforeExit', after one more turn of the event loop, and cancels the run
 * with a `DeadlockError` holding the task tree). Keeping the process alive at the
 * first 'beforeExit' is what tells `run()` that the program is not deadlocked.
 *
 * @module
 */

export class ExitWatch {
  #hooks: RunHooks | null = null;
  #stopped = false;
  #keepAlive: NodeJS.Timeout | null = null;

  constructor() {
    process.on("beforeExit", this.#onBeforeExit);
  }

  /** The hooks of the run, once {@link capture} was called in it. */
  get hooks(): RunHooks | null {
    return this.#hooks;
  }

  /** Call at the start of the run's main task: the watch learns the run's hooks. */
  capture(): void {
    this.#hooks = currentRunHooks();
  }

  /** `main` has finished: stop listening and keeping the process alive. */
  stop(): void {
    this.#stopped = true;
    process.off("beforeExit", this.#onBeforeExit);
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
  }

  readonly #onBeforeExit = (): void => {
    if (this.#stopped || this.#hooks === null || this.#keepAlive !== null) return;
    // Signal listeners do not keep the event loop alive: this does, from now on.
    if (waitsForSignal(this.#hooks.taskTree())) this.#keepAlive = setInterval(() => {}, 2 ** 30);
  };
}

/**
 * Whether a program with nothing left in the event loop may still be woken by
 * a signal: a task is not blocked in Quartet (it awaits a promise from
 * outside), or waits in `sleepForever()` or another operation on no Quartet
 * object (a custom `parkCurrentTask()`, say).
 */
function waitsForSignal(tree: TaskTree): boolean {
  const stack: Array<TaskTreeTask | TaskTreeScope> = [tree.main];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.type === "task") {
      if (item.state !== "blocked") return true;
      const wait = item.wait;
      if (wait !== undefined && (wait.until === Infinity || wait.operation === "parked" || (wait.operation === "wait" && wait.object === undefined))) return true;
    }
    stack.push(...item.scopes, ...item.tasks);
  }
  return false;
}
