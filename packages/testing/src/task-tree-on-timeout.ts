/**
 * A test that hangs says where: the task tree when it times out.
 *
 * @module
 */

import { CancelScope, run } from "@quartet/core";
import { cancelWithOrigin, currentRunHooks, formatTaskTree, type Clock, type RunHooks, type TaskTree } from "@quartet/core/lowlevel";

/**
 * Options of {@link withTaskTreeOnTimeout}.
 *
 * @example
 * ```ts
 * import { it } from "vitest";
 * import { sleep } from "@quartet/core";
 * import { MockClock, withTaskTreeOnTimeout, type TaskTreeOnTimeoutOptions } from "@quartet/testing";
 *
 * const options: TaskTreeOnTimeoutOptions = { timeout: 2000, clock: new MockClock({ autojumpThreshold: 0 }) };
 * it("sleeps an hour at once", withTaskTreeOnTimeout(() => sleep(3_600_000), options), 2000);
 * ```
 */
export interface TaskTreeOnTimeoutOptions {
  /**
   * The test's timeout in real milliseconds. Default: the timeout vitest gives
   * the test (read from the test context it passes), else 5000 (vitest's default).
   * `Infinity` or 0: never time out on our own (a vitest timeout still prints the tree).
   */
  timeout?: number;
  /**
   * How many real milliseconds before `timeout` to give up, print the tree and
   * cancel the body, so that this happens before the test runner's own timeout
   * kills the test. Default: a tenth of `timeout`, at most 1000.
   */
  margin?: number;
  /** The clock of the run, as for `run(main, { clock })`: a `MockClock` for virtual time. Default: the system clock. */
  clock?: Clock;
  /**
   * Debugging mode for the run (see `run()`): the tree then says since when and
   * from which line of your code each task waits. Default `true`; costs a stack
   * capture per blocking operation.
   */
  debug?: boolean;
  /**
   * Called once when the test times out, with a line saying so and the
   * formatted task tree below it. Default: writes that to stderr.
   */
  report?: (text: string) => void;
}

/** The parts of vitest's test context used here (looked up, not imported: no dependency on vitest). */
interface TestContextLike {
  readonly task?: { readonly timeout?: unknown; readonly name?: unknown };
  readonly signal?: AbortSignal;
}

/** vitest's default test timeout. */
const DEFAULT_TIMEOUT = 5000;

/**
 * Wraps a test body so that, if the test hangs, it says where: it returns a
 * test function that runs `body` as the main task of its own `run()` (with
 * `clock` and, by default, debugging on), and if `body` has not finished
 * `margin` ms before the test's `timeout`, prints the task tree (every task,
 * what it is blocked in, since when and from which line) to stderr, cancels
 * `body` so its cleanup runs, and fails with an Error whose message holds the
 * tree. When the test finishes in time, it passes or fails as `body` does.
 *
 * Made for vitest (it reads the test's timeout from the context vitest passes,
 * and prints the tree also if vitest's own timeout comes first), but the
 * returned function works with any runner that awaits a test function.
 *
 * @example
 * ```ts
 * import { it } from "vitest";
 * import { Event, taskGroup } from "@quartet/core";
 * import { withTaskTreeOnTimeout } from "@quartet/testing";
 *
 * it("reads the config", withTaskTreeOnTimeout(async () => {
 *   const loaded = new Event({ name: "config loaded" });
 *   await taskGroup(async (tg) => {
 *     tg.spawn(() => loaded.wait(), { name: "reader" }); // nothing ever sets it
 *   });
 * }), 1000);
 * // After 900 ms the test fails with:
 * //   Error: test timed out after 900 ms; its tasks were:
 * //   task "main" — blocked: wait for children on task group, for 890 ms
 * //   └─ task group
 * //      └─ task "reader" — blocked: wait on Event "config loaded", for 902 ms, at Child.tg.spawn.name [as fn] (/…/config.test.ts:8:27)
 * ```
 */
export function withTaskTreeOnTimeout(body: () => unknown, options?: TaskTreeOnTimeoutOptions): (context?: unknown) => Promise<void> {
  if (typeof body !== "function") throw new TypeError(`withTaskTreeOnTimeout() body must be a function; got ${body === null ? "null" : typeof body}`);
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`withTaskTreeOnTimeout() options must be an object if given; got ${options === null ? "null" : typeof options}`);
  }
  if (options?.timeout !== undefined) requireMilliseconds(options.timeout, "timeout", true);
  if (options?.margin !== undefined) requireMilliseconds(options.margin, "margin", false);
  if (options?.debug !== undefined && typeof options.debug !== "boolean") {
    throw new TypeError(`withTaskTreeOnTimeout() debug must be a boolean if given; got ${typeof options.debug}`);
  }
  if (options?.report !== undefined && typeof options.report !== "function") {
    throw new TypeError(`withTaskTreeOnTimeout() report must be a function if given; got ${typeof options.report}`);
  }
  const report = options?.report ?? ((text: string) => void process.stderr.write(`${text}\n`));

  return async (context?: unknown): Promise<void> => {
    const test = testContextOf(context);
    const timeout = options?.timeout ?? timeoutOf(test) ?? DEFAULT_TIMEOUT;
    const limited = timeout > 0 && timeout < Infinity;
    const margin = options?.margin ?? Math.min(1000, timeout / 10);
    const giveUpAfter = Math.max(0, timeout - margin);

    let hooks: RunHooks | null = null;
    const scope = new CancelScope({ name: "withTaskTreeOnTimeout" });
    const runOptions: { clock?: Clock; debug: boolean } = { debug: options?.debug ?? true };
    if (options?.clock !== undefined) runOptions.clock = options.clock;
    const ran = run(async function main() {
      hooks = currentRunHooks();
      await scope.run(async () => {
        await body();
      });
    }, runOptions);

    // Whichever comes first: the body's end, our own timeout, or the test runner stopping the test.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort = (): void => {};
    const signal = test?.signal instanceof AbortSignal ? test.signal : undefined;
    const stopped = new Promise<string>((resolve) => {
      if (limited) timer = setTimeout(() => resolve(`test timed out after ${Math.round(giveUpAfter)} ms`), giveUpAfter);
      onAbort = () => resolve("the test runner stopped the test (its timeout passed, or the test run was cancelled)");
      if (signal?.aborted === true) onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const why = await Promise.race([ran.then(() => null), stopped]);
      if (why === null) return;
      const tree = hooks === null ? "(the run had not started)" : formatTaskTree(withoutWrapper((hooks as RunHooks).taskTree()));
      const text = `${why}; its tasks were:\n${tree}`;
      try {
        report(text);
      } finally {
        cancelWithOrigin(scope, "timeout", why); // also if a report of the user's threw
      }
      // Let the cancelled body clean up, for part of the margin; a body that ignores its cancellation is left behind.
      let grace: ReturnType<typeof setTimeout> | undefined;
      const cleaned = await Promise.race([
        ran.then(() => true, () => true),
        new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(false), Math.max(1, margin / 2)))),
      ]);
      clearTimeout(grace);
      if (!cleaned) ran.catch(() => {}); // it may still fail later; that is not news
      const error = new Error(cleaned ? text : `${why} (and had not finished cleaning up ${Math.round(Math.max(1, margin / 2))} ms after its cancellation); its tasks were:\n${tree}`);
      error.stack = `Error: ${error.message}`; // where this helper noticed is of no interest; the tree says where the test is
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  };
}

function testContextOf(context: unknown): TestContextLike | undefined {
  // vitest's context is a function object.
  return (context !== null && typeof context === "object") || typeof context === "function" ? (context as TestContextLike) : undefined;
}

function timeoutOf(test: TestContextLike | undefined): number | undefined {
  const timeout = test?.task?.timeout;
  return typeof timeout === "number" && timeout >= 0 ? timeout : undefined;
}

/** The tree as the body sees it: without the cancel scope this helper wraps the body in. */
function withoutWrapper(tree: TaskTree): TaskTree {
  const [wrapper, ...others] = tree.main.scopes;
  if (wrapper === undefined || wrapper.name !== "withTaskTreeOnTimeout") return tree;
  return {
    now: tree.now,
    main: { ...tree.main, scopes: [...wrapper.scopes, ...others], tasks: [...tree.main.tasks, ...wrapper.tasks] },
  };
}

function requireMilliseconds(value: unknown, what: string, infinityAllowed: boolean): void {
  if (typeof value !== "number") throw new TypeError(`withTaskTreeOnTimeout() ${what} must be a number of milliseconds; got ${typeof value}`);
  if (Number.isNaN(value) || value < 0 || (!infinityAllowed && value === Infinity)) {
    throw new RangeError(`withTaskTreeOnTimeout() ${what} must be a ${infinityAllowed ? "" : "finite, "}non-negative number of milliseconds; got ${value}`);
  }
}
