/**
 * What `runMain` does when Node is about to exit while `main` still runs
 * ('beforeExit': the event loop has nothing left to do, so every task waits in
 * a Quartet operation or on a promise that nothing will settle).
 *
 * A program waiting for a signal — a task in `sleepForever()` (or in another
 * operation that waits on no Quartet object), or on a promise from outside —
 * is kept alive: Ctrl-C can still end it. Any other program whose tasks are
 * all blocked can never go on: a deadlock, which `run()` reports itself (it
 * cancels the run with a `DeadlockError` holding the task tree).
 *
 * `run()` looks for a deadlock at every 'beforeExit', and reports one as soon
 * as every task is blocked; `runMain` must decide first. So it keeps a task of
 * its own in the run, blocked like the others, and listens before `run()`
 * does: waking that task at 'beforeExit' keeps `run()` from reporting (a task
 * is then not blocked), while ending it and turning the event loop once more
 * lets `run()` report at the next 'beforeExit', with every task blocked and
 * without this one in the tree.
 *
 * @module
 */

import { CancelScope, Event } from "@quartet/core";
import { currentRunHooks, type RunHooks, type TaskTree, type TaskTreeScope, type TaskTreeTask } from "@quartet/core/lowlevel";

/** The name of the watch's task, which the task tree `runMain` prints leaves out. */
const WATCH_TASK = "runMain: exit watch";

export class ExitWatch {
  #hooks: RunHooks | null = null;
  #wake = new Event({ name: "beforeExit" });
  #stopped = false;
  #keepAlive: NodeJS.Timeout | null = null;

  constructor() {
    // Before run()'s own listener, whenever that was added.
    process.prependListener("beforeExit", this.#onBeforeExit);
  }

  /** The hooks of the run, once the watch's task has started in it. */
  get hooks(): RunHooks | null {
    return this.#hooks;
  }

  /**
   * The watch's task: spawn it in the run, in a task group around `main`'s
   * scope. It waits behind a shield (a signal or a failure must not end it while
   * `main`'s cleanup may still wait for a signal) until {@link stop}.
   */
  readonly task = {
    [WATCH_TASK]: async (): Promise<void> => {
      this.#hooks = currentRunHooks();
      await new CancelScope({ shield: true }).run(async () => {
        while (!this.#stopped) {
          const wake = this.#wake;
          await wake.wait();
          if (this.#wake === wake) this.#wake = new Event({ name: "beforeExit" });
        }
      });
    },
  }[WATCH_TASK]!;

  /** `main` has finished: end the watch's task, and stop listening. */
  stop(): void {
    this.#stopped = true;
    this.#wake.set();
    process.off("beforeExit", this.#onBeforeExit);
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
  }

  readonly #onBeforeExit = (): void => {
    if (this.#stopped || this.#hooks === null) return;
    if (waitsForSignal(this.#hooks.taskTree())) {
      // Signal listeners do not keep the event loop alive: this does, from now on.
      this.#keepAlive ??= setInterval(() => {}, 2 ** 30);
      this.#wake.set(); // synchronously unblocks the watch's task, before run() looks
      return;
    }
    // A deadlock. Ending the watch's task unblocks it before run() looks now; the immediate turns the
    // event loop once more, after which 'beforeExit' comes again and run() finds every task blocked.
    this.stop();
    setImmediate(() => {});
  };
}

/**
 * Whether a program with nothing left in the event loop may still be woken by
 * a signal: a task is not blocked in Quartet (it awaits a promise from
 * outside), or waits in `sleepForever()` or another operation on no Quartet
 * object (which a custom `parkCurrentTask()` may be).
 */
function waitsForSignal(tree: TaskTree): boolean {
  const stack: Array<TaskTreeTask | TaskTreeScope> = [tree.main];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.type === "task") {
      if (item.name === WATCH_TASK) continue;
      if (item.state !== "blocked") return true;
      const wait = item.wait;
      if (wait !== undefined && (wait.until === Infinity || (wait.operation === "wait" && wait.object === undefined))) return true;
    }
    stack.push(...item.scopes, ...item.tasks);
  }
  return false;
}

/** `tree` without the watch's task (spawned in the first task group of the run's main task), for printing. */
export function withoutWatch(tree: TaskTree): TaskTree {
  const [group, ...rest] = tree.main.scopes;
  if (group === undefined || group.type !== "group") return tree;
  const tasks = group.tasks.filter((task) => task.name !== WATCH_TASK);
  return { ...tree, main: { ...tree.main, scopes: [{ ...group, tasks }, ...rest] } };
}
