/**
 * `runMain`: a program's entry point, with signals and an exit code.
 *
 * @module
 */

import { constants } from "node:os";
import { inspect } from "node:util";
import { CancelScope, run } from "@quartet/core";
import { cancelWithOrigin, formatTaskTree, tasksOfError, traceToFile } from "@quartet/core/lowlevel";
import { ExitWatch } from "./internal/exit-watch.js";
import { describe, requireFunction, requireOptionalObject } from "./internal/validate.js";

/**
 * Options of {@link runMain}.
 *
 * @example
 * ```ts
 * import { sleep } from "@quartet/core";
 * import { runMain } from "@quartet/node";
 *
 * // In a larger program or a test: get main's value back instead of exiting the process.
 * const answer = await runMain(async () => {
 *   await sleep(10);
 *   return 42;
 * }, { exit: false });
 * console.log(answer); // 42 (undefined if Ctrl-C had cancelled main)
 * ```
 */
export interface RunMainOptions {
  /**
   * Whether `runMain` ends the process when `main` has finished (the default).
   * With `false` it returns instead: `main`'s value, or `undefined` if a signal
   * cancelled it (then `process.exitCode` is set to 130 or 143); and it throws
   * `main`'s error without printing it.
   */
  exit?: boolean;
  /**
   * The signal on which `runMain` prints the task tree to stderr (what every
   * task is doing, see `formatTaskTree` in `@quartet/core/lowlevel`), while the
   * program goes on: `kill -USR2 <pid>` shows where a running program waits.
   * `false` leaves the signal alone. Default `"SIGUSR2"` (where the platform
   * has it; not on Windows). Tools that restart a program with SIGUSR2 (nodemon
   * does, unless given `--signal SIGTERM`) then get a dump instead of an exit:
   * choose another signal for one or the other.
   *
   * @example
   * ```ts
   * import { sleepForever } from "@quartet/core";
   * import { runMain } from "@quartet/node";
   *
   * // `kill -HUP <pid>` prints what the program's tasks are doing; SIGUSR2 stays nodemon's restart signal.
   * await runMain(() => sleepForever(), { dumpSignal: "SIGHUP" });
   * ```
   */
  dumpSignal?: NodeJS.Signals | false;
  /**
   * A file to write a trace of the program to: every task's running and
   * blocked time and every cancellation, in Chrome Trace Event Format, which
   * Perfetto (ui.perfetto.dev) and chrome://tracing open (see `traceToFile` in
   * `@quartet/core/lowlevel`). The file is complete once the program has
   * ended, however it ended. Default: no trace (unless the environment has
   * `QUARTET_TRACE=<file>`).
   *
   * @example
   * ```ts
   * import { sleep, taskGroup } from "@quartet/core";
   * import { runMain } from "@quartet/node";
   *
   * await runMain(
   *   () =>
   *     taskGroup(async (tg) => {
   *       tg.spawn(() => sleep(100), { name: "fetch" });
   *       tg.spawn(() => sleep(200), { name: "render" });
   *     }),
   *   { trace: "trace.json" }, // then open trace.json in ui.perfetto.dev
   * );
   * ```
   */
  trace?: string;
}

/** The exit codes of a process ended by a signal, by shell convention (128 + the signal's number). */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof EXIT_CODES;
const SIGNALS = Object.keys(EXIT_CODES) as HandledSignal[];

/** Signals that `dumpSignal` may not name: runMain's own, and those that cannot be caught. */
const NOT_FOR_DUMPS: readonly string[] = [...SIGNALS, "SIGKILL", "SIGSTOP"];

/** The signal for task tree dumps that the options ask for, or null for none. */
function dumpSignalOf(options: RunMainOptions | undefined): NodeJS.Signals | null {
  const signal = options?.dumpSignal;
  if (signal === undefined) return "SIGUSR2" in constants.signals ? "SIGUSR2" : null;
  if (signal === false) return null;
  if (typeof signal !== "string") throw new TypeError(`runMain() dumpSignal must be a signal name or false; got ${describe(signal)}`);
  if (!(signal in constants.signals) || NOT_FOR_DUMPS.includes(signal)) {
    throw new RangeError(
      `runMain() dumpSignal must name a signal this platform has, other than SIGINT and SIGTERM (runMain's own) and SIGKILL and SIGSTOP (which cannot be caught); got ${describe(signal)}`,
    );
  }
  return signal;
}

/**
 * Runs `main` as a program: in its own `run()`, inside a cancel scope (named
 * "main") that the first SIGINT (Ctrl-C) or SIGTERM cancels, with the signal's
 * name as the reason and `"signal"` as the `Cancelled`'s `origin.kind`. `main` then unwinds and its cleanup runs to the end (shielded cleanup
 * may still wait), and the process exits with 130 for SIGINT or 143 for
 * SIGTERM. A second signal during that cleanup exits at once, for a program
 * whose cleanup hangs; child processes that `runProcess` started and that are
 * still running (one that ignores SIGTERM, in its grace period) get SIGKILL on
 * the way out.
 *
 * If `main` returns, the process exits with 0. If it throws, the error is
 * printed to stderr with the names of the tasks it came through, innermost
 * first (`in task: worker <- main`), and the process exits with 1. The exit
 * waits until stdout and stderr have been flushed, and does not wait for
 * handles that something outside the program's tasks left open.
 *
 * While `main` runs, the signal listeners are installed, and the process
 * stays alive while the program waits for a signal (Node would otherwise exit
 * with an unsettled promise): when the event loop has nothing left to do but
 * a task waits in `sleepForever()` (or on a promise from outside Quartet). If
 * instead every task is blocked in Quartet operations that nothing can wake
 * (an `Event` nobody sets, a channel nobody sends on), the program has
 * deadlocked: `run()` cancels it with a `DeadlockError` whose message is the
 * task tree, its cleanup runs, and the error is printed (exit code 1).
 *
 * On SIGUSR2 (see `dumpSignal`), the task tree is printed to stderr and the
 * program goes on. Pass `{ exit: false }` to keep the process and get
 * `main`'s outcome instead.
 *
 * @example
 * ```ts
 * import { sleepForever } from "@quartet/core";
 * import { runMain } from "@quartet/node";
 *
 * await runMain(async () => {
 *   console.log("running; press Ctrl-C to stop");
 *   try {
 *     await sleepForever();
 *   } finally {
 *     console.log("cleaned up"); // runs on Ctrl-C, then the process exits with 130
 *   }
 * });
 * ```
 */
export async function runMain<T>(main: () => Promise<T> | T, options?: RunMainOptions): Promise<T | undefined> {
  requireFunction(main, "runMain() main");
  requireOptionalObject(options, "runMain() options");
  const exit = options?.exit ?? true;
  if (typeof exit !== "boolean") throw new TypeError(`runMain() exit must be a boolean; got ${describe(exit)}`);
  const dumpSignal = dumpSignalOf(options);
  const trace = options?.trace;
  if (trace !== undefined && (typeof trace !== "string" || trace === "")) {
    throw new TypeError(`runMain() trace must be a file path (a non-empty string); got ${describe(trace)}`);
  }

  const scope = new CancelScope({ name: "main" });
  let received: HandledSignal | null = null;
  const onSignal = (signal: HandledSignal): void => {
    if (received === null) {
      received = signal;
      cancelWithOrigin(scope, "signal", signal);
      return;
    }
    process.stderr.write(`\n${signal} again: exiting without waiting for cleanup to finish\n`);
    process.exit(EXIT_CODES[signal]);
  };
  // Keeps the process alive while the program waits for a signal, and tells a deadlock apart.
  const watch = new ExitWatch();
  const onDump = (): void => {
    const hooks = watch.hooks;
    if (hooks !== null) process.stderr.write(`\n${dumpSignal}: the task tree of process ${process.pid}:\n${formatTaskTree(hooks.taskTree())}\n`);
  };
  // run() names its root task after the function it runs: keep main's name for "in task: …".
  const root = {
    [main.name || "main"]: async () => {
      watch.capture();
      return await scope.run(() => main());
    },
  }[main.name || "main"]!;

  // Finished when main has ended, or as the process exits (a second signal does not wait).
  const stopTrace = trace === undefined ? null : traceToFile(trace);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  if (dumpSignal !== null) process.on(dumpSignal, onDump);
  let value: T | undefined;
  let failure: { error: unknown } | null = null;
  try {
    value = await run(root);
  } catch (error) {
    failure = { error };
  } finally {
    watch.stop();
    for (const signal of SIGNALS) process.off(signal, onSignal);
    if (dumpSignal !== null) process.off(dumpSignal, onDump);
    await stopTrace?.();
  }
  const signal = received as HandledSignal | null;
  if (!exit) {
    if (failure !== null) throw failure.error;
    if (signal !== null) {
      process.exitCode = EXIT_CODES[signal];
      return undefined;
    }
    return value;
  }
  if (failure !== null) process.stderr.write(`${describeFailure(failure.error)}\n`);
  const code = failure !== null ? 1 : signal !== null ? EXIT_CODES[signal] : 0;
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/** The error as Node prints an uncaught one, plus the tasks it came through (and those of each error it groups). */
function describeFailure(error: unknown): string {
  try {
    return describeFailureUnsafely(error);
  } catch {
    return `${describe(error)} was thrown (it cannot be shown: looking at it throws)`;
  }
}

function describeFailureUnsafely(error: unknown): string {
  const lines = [inspect(error)];
  const tasks = tasksOfError(error);
  if (tasks.length > 0) lines.push(`    in task: ${tasks.join(" <- ")}`);
  if (error instanceof AggregateError) {
    error.errors.forEach((inner: unknown, i: number) => {
      const innerTasks = tasksOfError(inner);
      const what = inner instanceof Error ? `${inner.name}: ${inner.message}` : describe(inner);
      if (innerTasks.length > 0) lines.push(`    errors[${i}] (${what}) in task: ${innerTasks.join(" <- ")}`);
    });
  }
  return lines.join("\n");
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded) resolve();
    else stream.write("", () => resolve());
  });
}
