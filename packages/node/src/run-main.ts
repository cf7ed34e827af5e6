/**
 * `runMain`: a program's entry point, with signals and an exit code.
 *
 * @module
 */

import { inspect } from "node:util";
import { CancelScope, run } from "@quartet/core";
import { tasksOfError } from "@quartet/core/lowlevel";
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
}

/** The exit codes of a process ended by a signal, by shell convention (128 + the signal's number). */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof EXIT_CODES;
const SIGNALS = Object.keys(EXIT_CODES) as HandledSignal[];

/**
 * Runs `main` as a program: in its own `run()`, inside a cancel scope that the
 * first SIGINT (Ctrl-C) or SIGTERM cancels, with the signal's name as the
 * reason. `main` then unwinds and its cleanup runs to the end (shielded cleanup
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
 * While `main` runs, the process stays alive even if nothing but Quartet
 * waits (Node would otherwise exit with an unsettled promise), and the signal
 * listeners are installed; both end with `main`. Pass
 * `{ exit: false }` to keep the process and get `main`'s outcome instead.
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

  const scope = new CancelScope();
  let received: HandledSignal | null = null;
  const onSignal = (signal: HandledSignal): void => {
    if (received === null) {
      received = signal;
      scope.cancel(signal);
      return;
    }
    process.stderr.write(`\n${signal} again: exiting without waiting for cleanup to finish\n`);
    process.exit(EXIT_CODES[signal]);
  };
  // run() names its root task after the function it runs: keep main's name for "in task: …".
  const root = { [main.name || "main"]: () => scope.run(() => main()) }[main.name || "main"]!;

  for (const signal of SIGNALS) process.on(signal, onSignal);
  // Signal listeners do not keep Node's event loop alive: a main that only waits in Quartet
  // (sleepForever() until Ctrl-C) would otherwise end the process with an unsettled promise.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  let value: T | undefined;
  let failure: { error: unknown } | null = null;
  try {
    value = await run(root);
  } catch (error) {
    failure = { error };
  } finally {
    clearInterval(keepAlive);
    for (const signal of SIGNALS) process.off(signal, onSignal);
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
