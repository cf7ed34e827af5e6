/**
 * Offloading CPU-bound work to worker threads: `runInWorker`, and the pools of
 * threads it runs in (`openWorkerPool`), on piscina.
 *
 * @module
 */

import { availableParallelism } from "node:os";
import { extname, isAbsolute } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { randomUUID } from "node:crypto";
import { BroadcastChannel, type Transferable } from "node:worker_threads";
import { Piscina } from "piscina";
import { CancelScope, CapacityLimiter, ClosedResourceError, moveOnAfter, taskGroup } from "@quartet/core";
import { WorkerCall } from "./internal/worker-call.js";
import { CANCEL_SLOTS, type CancelMessage, type PoolData } from "./internal/worker-protocol.js";
import { describe, requireOptionalDuration, requireOptionalObject } from "./internal/validate.js";

// ------------------------------------------------------------------- options and statistics

/**
 * Options of {@link runInWorker} and of a pool's {@link WorkerPool.run}.
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
   * Bounds how many calls run at once (each call holds one token while it
   * runs). Default: the pool's own limiter, with as many tokens as the pool
   * has threads at most.
   */
  limiter?: CapacityLimiter;
  /** Objects in `input` to move to the worker rather than copy (`ArrayBuffer`s, `MessagePort`s). */
  transferList?: readonly Transferable[];
  /**
   * When the call is cancelled: how long, in ms, the worker's cleanup may take
   * before its thread is terminated. Default: the pool's (1000 ms unless it
   * was opened with another). `0` terminates at once; `Infinity` never does.
   */
  gracePeriod?: number;
  /** The pool to run in (see {@link openWorkerPool}). Default: a pool shared by every call that names none. */
  pool?: WorkerPool;
}

/**
 * Options of {@link openWorkerPool}.
 *
 * @example
 * ```ts
 * import { openWorkerPool } from "@quartet/node";
 *
 * await using pool = openWorkerPool({ maxThreads: 2, idleTimeout: 30_000, gracePeriod: 200 });
 * console.log(pool.statistics().maxThreads); // 2
 * ```
 */
export interface WorkerPoolOptions {
  /** The most threads the pool runs at once (and the tokens of its limiter). Default: `os.availableParallelism()`. */
  maxThreads?: number;
  /** How long, in ms, a thread with nothing to do is kept for the next call before it exits. Default 5000. */
  idleTimeout?: number;
  /** The default `gracePeriod` of the pool's calls (see {@link RunInWorkerOptions.gracePeriod}). Default 1000. */
  gracePeriod?: number;
}

/**
 * What {@link WorkerPool.statistics} reports.
 *
 * @example
 * ```ts
 * import { openWorkerPool } from "@quartet/node";
 *
 * await using pool = openWorkerPool({ maxThreads: 2 });
 * const { threads, tasksRunning, tasksCompleted } = pool.statistics();
 * console.log(threads, tasksRunning, tasksCompleted); // 0 0 0
 * ```
 */
export interface WorkerPoolStatistics {
  /** Threads alive now (running a call or idle). */
  readonly threads: number;
  /** Threads alive and idle, waiting for a call. */
  readonly idleThreads: number;
  /** The most threads the pool runs at once. */
  readonly maxThreads: number;
  /** Calls handed to the pool and not finished: running on a thread, or queued for one. */
  readonly tasksRunning: number;
  /** Of those, calls queued for a thread (piscina's queue; calls waiting for a limiter token are not counted). */
  readonly tasksQueued: number;
  /** Calls waiting for a token of the pool's own limiter. */
  readonly tasksWaiting: number;
  /** Calls finished since the pool was opened, however they ended. */
  readonly tasksCompleted: number;
  /** Threads terminated because a cancelled call's cleanup outlasted its grace period. */
  readonly threadsTerminated: number;
  /** The share of the pool's capacity spent running calls since it was opened (piscina's `utilization`, 0 to 1). */
  readonly utilization: number;
}

/**
 * A pool of worker threads (on piscina) that runs `runInWorker` calls: threads
 * are started as calls need them, up to `maxThreads`, and reused; a thread
 * idle for `idleTimeout` ms exits. Idle threads do not keep the process alive.
 *
 * @example
 * ```ts
 * import { writeFile } from "node:fs/promises";
 * import { openWorkerPool } from "@quartet/node";
 *
 * await writeFile("/tmp/square.mjs", "export default (n) => n * n;");
 * await using pool = openWorkerPool({ maxThreads: 2 });
 * console.log(await pool.run<number>("/tmp/square.mjs", 7)); // 49
 * // leaving the block closes the pool: its threads exit
 * ```
 */
export interface WorkerPool extends AsyncDisposable {
  /** `runInWorker(module, input, { ...options, pool: this })`. */
  run<T = unknown>(module: string | URL, input?: unknown, options?: Omit<RunInWorkerOptions, "pool">): Promise<T>;
  /** The pool's threads and calls now, as a frozen record. */
  statistics(): WorkerPoolStatistics;
  /**
   * Closes the pool: later calls throw `ClosedResourceError`, threads are
   * terminated, and calls still running in it throw `ClosedResourceError`.
   * Returns once every thread has exited. Closing twice does nothing more.
   */
  close(): Promise<void>;
}

// ------------------------------------------------------------------- the entry points

/** The module each thread runs: `.ts` when this file is (Quartet's own tests, with tsx in the threads), else `.js`. */
const ENTRY = fileURLToPath(new URL(`./internal/worker-entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url));
const DEFAULT_GRACE_PERIOD = 1000;
const DEFAULT_IDLE_TIMEOUT = 5000;

/**
 * Opens a pool of worker threads for {@link runInWorker}. Each call of the
 * pool runs in one of its threads; the pool's limiter bounds how many run at
 * once. Close it (`await using`, or `close()`) when done: its threads exit.
 *
 * @example
 * ```ts
 * import { writeFile } from "node:fs/promises";
 * import { all } from "@quartet/core";
 * import { openWorkerPool, runInWorker } from "@quartet/node";
 *
 * await writeFile("/tmp/cube.mjs", "export default (n) => n ** 3;");
 * await using pool = openWorkerPool({ maxThreads: 2 });
 * const cubes = await all([1, 2, 3].map((n) => () => runInWorker<number>("/tmp/cube.mjs", n, { pool })));
 * console.log(cubes, pool.statistics().tasksCompleted); // [1, 8, 27] 3
 * ```
 */
export function openWorkerPool(options?: WorkerPoolOptions): WorkerPool {
  requireOptionalObject(options, "openWorkerPool() options");
  const maxThreads = options?.maxThreads ?? availableParallelism();
  if (typeof maxThreads !== "number") throw new TypeError(`openWorkerPool() maxThreads must be a number; got ${describe(maxThreads)}`);
  if (!Number.isSafeInteger(maxThreads) || maxThreads < 1) {
    throw new RangeError(`openWorkerPool() maxThreads must be an integer of at least 1; got ${maxThreads}`);
  }
  requireOptionalDuration(options?.idleTimeout, "openWorkerPool() idleTimeout");
  requireOptionalDuration(options?.gracePeriod, "openWorkerPool() gracePeriod");
  return new Pool(maxThreads, options?.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, options?.gracePeriod ?? DEFAULT_GRACE_PERIOD);
}

let sharedPool: Pool | undefined;

/**
 * Runs the default export of `module` with `input` in a worker thread, and
 * returns what it returns (or resolves to): for CPU-bound work that would
 * otherwise stop every task of the program while it runs.
 *
 * `module` is a URL (`new URL("./hash.js", import.meta.url)`) or an absolute
 * path to an ES module whose default export is a function of one argument.
 * `input` and the result are copied between threads (the structured clone
 * algorithm: plain data, typed arrays, `Map`, `Set`, `Date`; not functions or
 * class instances); `transferList` moves buffers and ports instead. Message
 * ports in `input` (or among its top-level properties) are closed when the
 * function returns. Threads start with this process's `execArgv`, so a module
 * loader such as tsx applies to them too.
 *
 * The function runs inside a Quartet `run()` of its own in the worker thread,
 * so it can use every Quartet primitive. An error it throws is thrown here
 * with its class (if it is a built-in or a Quartet error; else an `Error` with
 * its `name`), message, stack, fields such as `code`, and `cause`. A run that
 * deadlocks there fails with a `DeadlockError` that shows its task tree.
 *
 * Cancellation is cooperative: cancelling the caller's scope cancels the
 * worker's root scope with the same kind and reason, so its checkpoints throw
 * `Cancelled`, its `finally` blocks and disposers run, and its thread goes back
 * to the pool; then the caller's `Cancelled` is thrown here. A worker that does
 * not finish within `gracePeriod` ms (a computation without checkpoints) is
 * terminated, and the call waits until its thread has exited.
 *
 * At most `limiter.totalTokens` calls run at a time; further calls wait for a
 * token (a checkpoint). One task may make several calls at once (`all`, `map`).
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
  requireOptionalObject(options, "runInWorker() options");
  const pool = options?.pool;
  if (pool === undefined) return (sharedPool ??= openWorkerPool() as Pool).call<T>("runInWorker()", module, input, options);
  if (!(pool instanceof Pool)) throw new TypeError(`runInWorker() pool must be a WorkerPool from openWorkerPool(); got ${describe(pool)}`);
  return pool.call<T>("runInWorker()", module, input, options);
}

// ------------------------------------------------------------------- the pool

class Pool implements WorkerPool {
  readonly #piscina: Piscina;
  readonly #limiter: CapacityLimiter;
  readonly #gracePeriod: number;
  #running = 0;
  #terminated = 0;
  #closed = false;
  #lastId = 0;
  /** See worker-protocol.ts: where cancels go (made at the first), and the marks of cancelled calls. */
  readonly #data: PoolData = { cancelChannel: `quartet-worker-pool-${randomUUID()}`, cancelMarks: new SharedArrayBuffer(4 * CANCEL_SLOTS) };
  readonly #cancelMarks = new Int32Array(this.#data.cancelMarks);
  #cancelChannel: BroadcastChannel | null = null;
  /** The cancels of calls not yet finished, by id: sent again to every thread that starts, which may take their tasks. */
  readonly #cancelsSent = new Map<number, CancelMessage>();

  constructor(maxThreads: number, idleTimeout: number, gracePeriod: number) {
    // The threads' event loops must run between calls: a port the call closed tells the other side only then
    // (piscina's default, "sync", blocks the thread in Atomics.wait as soon as a task ends).
    this.#piscina = new Piscina({ filename: ENTRY, minThreads: 0, maxThreads, idleTimeout, atomics: "async", workerData: this.#data });
    this.#limiter = new CapacityLimiter(maxThreads, { name: "worker pool" });
    this.#piscina.on("workerCreate", () => {
      for (const message of this.#cancelsSent.values()) this.#cancelChannel?.postMessage(message);
    });
    this.#gracePeriod = gracePeriod;
  }

  run<T = unknown>(module: string | URL, input?: unknown, options?: Omit<RunInWorkerOptions, "pool">): Promise<T> {
    return this.call<T>("WorkerPool.run()", module, input, options);
  }

  /** One call: checks its arguments, then runs it in a task of its own (a limiter token belongs to a task; the caller may make several calls at once). */
  async call<T>(what: string, module: unknown, input: unknown, options: RunInWorkerOptions | undefined): Promise<T> {
    const href = moduleHref(module, what);
    requireOptionalObject(options, `${what} options`);
    const limiter = options?.limiter ?? this.#limiter;
    if (!(limiter instanceof CapacityLimiter)) throw new TypeError(`${what} limiter must be a CapacityLimiter; got ${describe(limiter)}`);
    const transferList = options?.transferList ?? [];
    if (!Array.isArray(transferList)) throw new TypeError(`${what} transferList must be an array if given; got ${describe(transferList)}`);
    requireOptionalDuration(options?.gracePeriod, `${what} gracePeriod`);
    const gracePeriod = options?.gracePeriod ?? this.#gracePeriod;
    this.#checkOpen(what);
    let result: T;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using _token = await limiter.acquire();
        this.#checkOpen(what);
        result = await this.#runCall<T>(href, input, transferList, gracePeriod);
      }, { name: `${what} ${href}` });
    });
    return result!;
  }

  async #runCall<T>(href: string, input: unknown, transferList: readonly Transferable[], gracePeriod: number): Promise<T> {
    this.#lastId = this.#lastId === 2 ** 31 - 1 ? 1 : this.#lastId + 1;
    const call = new WorkerCall(href, this.#lastId, this.#sendCancel);
    const terminate = new AbortController();
    this.#running++;
    try {
      call.watch(this.#piscina.run({ id: call.id, module: href, input }, { signal: terminate.signal, transferList: transferList as never }));
      try {
        await call.finished();
      } catch (cancelled) {
        // Only a cancellation gets here: ask the worker to unwind, terminate it if it takes too long.
        await new CancelScope({ shield: true }).run(async () => {
          call.cancel(cancelled);
          await moveOnAfter(gracePeriod, () => call.finished());
          if (call.isFinished()) return;
          // piscina removes the thread that runs the task when its signal aborts (at once): the one missing after is ours.
          const before = this.#piscina.threads;
          terminate.abort(cancelled);
          this.#terminated++;
          const after = new Set(this.#piscina.threads);
          await call.finished();
          for (const thread of before) if (!after.has(thread)) await WorkerCall.exited(thread);
        });
        call.throwFailureOfCleanup();
        throw cancelled;
      }
    } finally {
      this.#running--;
      this.#cancelsSent.delete(call.id);
    }
    if (this.#closed) call.throwIfTerminated(() => new ClosedResourceError(`the worker pool was closed while ${href} ran in it`));
    return call.result() as T;
  }

  readonly #sendCancel = (message: CancelMessage): void => {
    if (this.#closed) return; // its threads are being terminated: nothing is left to cancel
    Atomics.store(this.#cancelMarks, message.id % CANCEL_SLOTS, message.id);
    this.#cancelsSent.set(message.id, message);
    if (this.#cancelChannel === null) {
      this.#cancelChannel = new BroadcastChannel(this.#data.cancelChannel);
      this.#cancelChannel.unref();
    }
    this.#cancelChannel.postMessage(message);
  };

  statistics(): WorkerPoolStatistics {
    const piscina = this.#piscina;
    const tasksQueued = this.#closed ? 0 : piscina.queueSize;
    return Object.freeze({
      threads: piscina.threads.length,
      idleThreads: this.#closed ? 0 : piscina.idleThreads,
      maxThreads: piscina.maxThreads,
      tasksRunning: this.#running,
      tasksQueued,
      tasksWaiting: this.#limiter.statistics().tasksWaiting,
      tasksCompleted: piscina.completed,
      threadsTerminated: this.#terminated,
      utilization: piscina.utilization,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelChannel?.close();
    await this.#piscina.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new ClosedResourceError(`${what} on a worker pool that was closed`);
  }
}

/** The URL a worker imports the module from. */
function moduleHref(module: unknown, what: string): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string") throw new TypeError(`${what} module must be a URL or a path; got ${describe(module)}`);
  if (isAbsolute(module)) return pathToFileURL(module).href;
  if (/^(file|data):/.test(module)) return module;
  throw new TypeError(`${what} module must be an absolute path or a file: URL (try new URL(path, import.meta.url)); got ${describe(module)}`);
}
