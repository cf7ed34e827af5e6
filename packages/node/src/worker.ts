/**
 * Offloading CPU-bound work to worker threads: `runInWorker`.
 *
 * @module
 */

import { availableParallelism } from "node:os";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type Transferable } from "node:worker_threads";
import { CancelScope, CapacityLimiter } from "@quartet/core";
import { parkCurrentTask } from "@quartet/core/lowlevel";
import { describe, requireOptionalObject } from "./internal/validate.js";

/**
 * Options of {@link runInWorker}.
 *
 * @example
 * ```ts
 * import { writeFile } from "node:fs/promises";
 * import { CapacityLimiter } from "@quartet/core";
 * import { runInWorker } from "@quartet/node";
 *
 * await writeFile("/tmp/sum.mjs", "export default (buffer) => new Uint8Array(buffer).reduce((a, b) => a + b, 0);");
 * const limiter = new CapacityLimiter(2); // at most two of these workers at a time
 * const bytes = new Uint8Array(1_000_000).fill(1);
 * const sum = await runInWorker<number>("/tmp/sum.mjs", bytes.buffer, { limiter, transferList: [bytes.buffer] });
 * console.log(sum, bytes.byteLength); // 1000000 0: the buffer was moved to the worker, not copied
 * ```
 */
export interface RunInWorkerOptions {
  /**
   * Bounds how many workers run at once (each call holds one token while its
   * worker runs). Default: a limiter shared by every call that does not pass
   * one, with as many tokens as the machine has CPUs (`os.availableParallelism()`).
   */
  limiter?: CapacityLimiter;
  /** Objects in `input` to move to the worker rather than copy (`ArrayBuffer`s, `MessagePort`s). */
  transferList?: readonly Transferable[];
}

/** The script each worker starts with: it imports the module and posts what its default export returns. */
const BOOTSTRAP = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.module).then(async (module) => {
  if (typeof module.default !== "function") {
    throw new TypeError(workerData.module + " must have a default export that is a function; got " + typeof module.default);
  }
  parentPort.postMessage({ result: await module.default(workerData.input) });
});
`;

let sharedLimiter: CapacityLimiter | undefined;

/**
 * Runs the default export of `module` with `input` in a worker thread, and
 * returns what it returns (or resolves to): for CPU-bound work that would
 * otherwise stop every task of the program while it runs.
 *
 * `module` is a URL (`new URL("./hash.js", import.meta.url)`) or an absolute
 * path to an ES module whose default export is a function of one argument.
 * `input` and the result are copied between threads (the structured clone
 * algorithm: plain data, typed arrays, `Map`, `Set`, `Date`, errors; not
 * functions or class instances). An error thrown in the worker is thrown here.
 * Workers start with this process's `execArgv`, so a module loader such as tsx
 * applies to them too.
 *
 * Cancellation terminates the worker at once, even in the middle of a
 * computation (unlike code in the main thread, which runs to its next
 * checkpoint), and waits until it has stopped. At most `limiter.totalTokens`
 * workers run at a time; further calls wait for a token (a checkpoint).
 *
 * @example
 * ```ts
 * import { writeFile } from "node:fs/promises";
 * import { runInWorker } from "@quartet/node";
 *
 * // A module for the worker, here written on the spot: its default export does the work.
 * await writeFile("/tmp/fib.mjs", "export default function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }");
 * const result = await runInWorker<number>("/tmp/fib.mjs", 30);
 * console.log(result); // 832040, computed while the main thread stayed free
 * ```
 */
export async function runInWorker<T = unknown>(module: string | URL, input?: unknown, options?: RunInWorkerOptions): Promise<T> {
  const href = moduleHref(module);
  requireOptionalObject(options, "runInWorker() options");
  const limiter = options?.limiter ?? (sharedLimiter ??= new CapacityLimiter(availableParallelism()));
  if (!(limiter instanceof CapacityLimiter)) throw new TypeError(`runInWorker() limiter must be a CapacityLimiter; got ${describe(limiter)}`);
  const transferList = options?.transferList;
  if (transferList !== undefined && !Array.isArray(transferList)) {
    throw new TypeError(`runInWorker() transferList must be an array if given; got ${describe(transferList)}`);
  }

  using _token = await limiter.acquire();
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { module: href, input }, transferList: transferList as Transferable[] | undefined });
  const run = new WorkerRun<T>(worker);
  try {
    await run.exited();
  } catch (error) {
    // Cancelled: stop the computation, and wait until the thread is gone before going on.
    await new CancelScope({ shield: true }).run(async () => {
      void worker.terminate();
      await run.exited();
    });
    throw error;
  }
  return run.outcome(href);
}

/** The URL a worker imports the module from. */
function moduleHref(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string") throw new TypeError(`runInWorker() module must be a URL or a path; got ${describe(module)}`);
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (/^(file|data):/.test(module)) return module;
  throw new TypeError(`runInWorker() module must be an absolute path or a file: URL (try new URL(path, import.meta.url)); got ${describe(module)}`);
}

/** What a worker has done so far: its result or error, and whether its thread has exited. */
class WorkerRun<T> {
  #result: { value: T } | null = null;
  #error: { error: unknown } | null = null;
  #exitCode: number | null = null;
  #wake: (() => void) | null = null;

  constructor(worker: Worker) {
    worker.on("message", (message: { result: T }) => (this.#result = { value: message.result }));
    worker.on("error", (error: unknown) => (this.#error ??= { error }));
    worker.on("exit", (code: number) => {
      this.#exitCode = code;
      this.#wake?.();
    });
  }

  /** Waits (a checkpoint) until the worker's thread has exited. */
  async exited(): Promise<void> {
    while (this.#exitCode === null) {
      const parked = parkCurrentTask<void>(() => (this.#wake = null));
      this.#wake = () => parked.wake();
      await parked.promise;
    }
  }

  /** The result, or the error that ended the worker. */
  outcome(href: string): T {
    if (this.#error !== null) throw this.#error.error;
    if (this.#result === null) throw new Error(`the worker running ${href} exited with code ${this.#exitCode} before returning a result`);
    return this.#result.value;
  }
}
