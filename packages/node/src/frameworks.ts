/**
 * `@quartet/node/frameworks`: what Quartet's adapters for web frameworks
 * (`@quartet/express`, `@quartet/fastify`, `@quartet/hono`) are built on. It
 * serves a framework's request listener the way `serveHttp` serves a handler —
 * every request a task in its own cancel scope (client gone, deadline, server
 * shutdown), the server shaped for `tg.start()` — and lets the framework's
 * handlers run as tasks of their request. Programs use the adapters; this is
 * for writing one.
 *
 * @module @quartet/node/frameworks
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TASK_STATUS_IGNORED, isCancelled, taskGroup, type TaskGroup, type TaskStatus } from "@quartet/core";
import { serveHttpAs, type ServeHttpOptions } from "./http.js";
import { waitForEvent } from "./internal/events.js";
import { asCancellation, type Exchange } from "./internal/http-exchange.js";
import { describe, requireFunction, requireObject, requireString } from "./internal/validate.js";

/**
 * The options of a framework's server: `serveHttp`'s, without those that the
 * framework has its own of (body size limits, error handling).
 *
 * @example
 * ```ts
 * import type { FrameworkServeOptions } from "@quartet/node/frameworks";
 *
 * const options: FrameworkServeOptions = { port: 8080, host: "127.0.0.1", requestTimeout: 10_000, gracePeriod: 5000 };
 * console.log(options.requestTimeout); // 10000
 * ```
 */
export type FrameworkServeOptions = Pick<ServeHttpOptions, "port" | "host" | "requestTimeout" | "headersTimeout" | "gracePeriod">;

/**
 * A framework's Node request listener: an Express app, Fastify's
 * `app.routing`, `@hono/node-server`'s `getRequestListener(app.fetch)`. It may
 * answer later than it returns (as Express and Fastify do), or return a promise
 * that settles once it has (as `@hono/node-server`'s listener does).
 *
 * @example
 * ```ts
 * import type { FrameworkListener } from "@quartet/node/frameworks";
 *
 * const listener: FrameworkListener = (request, response) => void response.end(`${request.url}\n`);
 * console.log(typeof listener); // "function"
 * ```
 */
export type FrameworkListener = (request: IncomingMessage, response: ServerResponse) => unknown;

/** A handler to run as a task of the request, and its task's name. */
type Spawned = [fn: () => Promise<void>, name: string | undefined];

/**
 * The work of one request served by `serveFramework`, in the request's task:
 * the listener, the handlers it runs (see {@link spawnRequestTask}), and the
 * wait for the response. A handler called while the listener runs (the
 * framework called it at once, as Express and Fastify do for a request with no
 * body) runs in the request's own task, inside its scope: most requests need
 * no task group, no second task and no wait for the response's 'finish'.
 * A group is opened when a handler is spawned later (the framework called it
 * from a socket event, after reading a body) or while another runs, or when the
 * response is not finished once they are done.
 */
class RequestTasks {
  readonly exchange: Exchange;
  /** While the listener is being called: a handler spawned now is called from the request's task. */
  inListener = false;
  /** The promise of the handler called in the request's own task, if one was. */
  inline: Promise<void> | null = null;
  /** The request's task group, once open: handlers spawned from then on are its tasks. */
  group: TaskGroup | null = null;
  /** Handlers spawned while no group was open, in order, for the group to run. */
  queued: Spawned[] | null = null;
  /** Wakes the request's task, which is waiting for its handler, to open the group for the handlers queued. */
  wake: (() => void) | null = null;
  /** A handler is running in the request's task while the group is open: a failing task must cancel it too (see `#failsRequest`). */
  #inlineInGroup = false;
  /** The request's work is over: a handler spawned now would run after its task has ended. */
  over = false;

  constructor(exchange: Exchange) {
    this.exchange = exchange;
  }

  get name(): string {
    return this.exchange.scope.name!;
  }

  /** Runs `fn` as a handler of the request: see {@link spawnRequestTask}. */
  spawn(fn: () => Promise<void>, name: string | undefined): void {
    if (this.over) {
      throw new Error(`spawnRequestTask(): the request ${this.name} has ended (its response is finished), so no handler of it can start any more`);
    }
    if (this.group !== null) {
      this.group.spawn(this.#inlineInGroup ? this.#failsRequest(fn) : fn, { name: name ?? this.name });
    } else if (this.inListener && this.inline === null) {
      try {
        this.inline = Promise.resolve(fn());
      } catch (error) {
        this.inline = Promise.reject(error);
      }
    } else {
      (this.queued ??= []).push([fn, name]);
      this.wake?.();
    }
  }

  /**
   * The rest of the request's work once the listener has returned `result`:
   * waits for it and for the handler running in this task, unless handlers are
   * queued meanwhile; then, if handlers are queued or the response is not
   * finished, opens the request's group for them and waits for the response.
   */
  async finish(result: PromiseLike<unknown> | undefined): Promise<void> {
    try {
      const inline = this.inline;
      let pending: Promise<unknown> | null = result === undefined ? inline : inline === null ? Promise.resolve(result) : bothSettled(result, inline);
      if (pending !== null && this.queued === null) {
        let failure: { error: unknown } | null = null;
        await new Promise<void>((resolve) => {
          // `resolve` itself, not a closure calling it: an arrow stored here made V8 keep every request's objects
          // through young-generation collections (promoting tens of MB a second under load), for reasons of its own.
          this.wake = resolve as () => void;
          pending!.then(
            () => resolve(),
            (error: unknown) => {
              failure = { error };
              resolve();
            },
          );
        });
        this.wake = null;
        // Woken with nothing queued: it has settled. (With handlers queued, the group below takes it, settled or not.)
        if (this.queued === null) {
          if (failure !== null) throw (failure as { error: unknown }).error; // the request's error
          pending = null;
        }
      }
      const response = this.exchange.response;
      if (this.queued === null && (response.writableEnded || response.destroyed)) return;
      await taskGroup(
        async (group) => {
          if (pending !== null) {
            // Still running in the request's task: the group waits for it as for a task of its own.
            const running = pending;
            this.#inlineInGroup = true;
            group.spawn(async () => void (await running), { name: this.name });
          }
          this.group = group;
          const queued = this.queued ?? [];
          this.queued = null;
          for (const [fn, name] of queued) this.spawn(fn, name);
          // Done once the response is ended (its last bytes on their way): not a turn later, when they have been flushed.
          if (!response.writableEnded && !response.destroyed) await waitForEvent(response, ["finish", "close"]);
        },
        { name: this.name },
      );
    } finally {
      this.over = true;
    }
  }

  /**
   * `fn`, as a task of a group that waits for a handler running in the request's
   * own task: that handler is not in the group's scope, so an error `fn` lets
   * out cancels the request's scope, which it is in, before failing the group.
   */
  #failsRequest(fn: () => Promise<void>): () => Promise<void> {
    return async () => {
      try {
        await fn();
      } catch (error) {
        if (!isCancelled(error)) this.exchange.scope.cancel(error);
        throw error;
      }
    };
  }
}

/** Where a request keeps its {@link RequestTasks}. */
const TASKS = Symbol("quartet.requestTasks");

type Served = IncomingMessage & { [TASKS]?: RequestTasks };

/**
 * Serves `listener` as `serveHttp` serves a handler, under the name `what`
 * (such as `"serveExpress"`), which argument errors, the task tree and the
 * shutdown's reason use. Every request is a task in its own cancel scope,
 * cancelled when the client disconnects before the response is finished
 * (origin kind `"disconnect"`), when `requestTimeout` passes (`"deadline"`),
 * and when the server shuts down after its `gracePeriod` (`"shutdown"`); at
 * that moment the client gets its 503 (or a closed connection, if headers were
 * sent), whatever the framework's handlers are doing.
 *
 * In the request's task, inside its scope, `listener(request, response)` is
 * called; the task then waits until the listener's promise (if it returned
 * one) settles, for the handlers run with {@link spawnRequestTask}, and until
 * the response is finished. Code the listener runs before its first wait runs
 * in that task, so a listener that handles the whole request in one async call
 * (Hono's) is a task of the request as it is; a framework that may call
 * handlers later, from socket events (Express and Fastify, after reading a
 * body), runs them with {@link spawnRequestTask}.
 *
 * Shaped for `tg.start()`: `status.started()` gets the bound address. Body
 * size limits are the framework's (none here); a listener that throws gets
 * its client a 500 and is reported on stderr.
 *
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { currentSignal, taskGroup } from "@quartet/core";
 * import { serveFramework } from "@quartet/node/frameworks";
 *
 * await taskGroup(async (tg) => {
 *   const { port } = await tg.start<AddressInfo>((status) =>
 *     serveFramework("serveTiny", (request, response) => {
 *       response.end(`${request.url}: aborted ${currentSignal().aborted}\n`); // runs in the request's task
 *     }, { port: 0, host: "127.0.0.1" }, status),
 *   );
 *   console.log(await (await fetch(`http://127.0.0.1:${port}/hi`)).text()); // "/hi: aborted false"
 *   tg.cancelScope.cancel();
 * });
 * ```
 */
export async function serveFramework(
  what: string,
  listener: FrameworkListener,
  options: FrameworkServeOptions,
  status: TaskStatus<AddressInfo> = TASK_STATUS_IGNORED,
): Promise<never> {
  requireString(what, "serveFramework() what");
  requireFunction(listener, `${what}() listener`);
  requireObject(options, `${what}() options`);
  const { port, host, requestTimeout, headersTimeout, gracePeriod } = options;
  return serveHttpAs(
    what,
    (exchange) => runRequest(listener, exchange),
    { port, host, requestTimeout, headersTimeout, gracePeriod },
    status,
    Infinity,
  );
}

/**
 * A request's task, inside its scope: the listener, then the wait for the
 * handlers and the response. A listener that answers at once, and whose
 * handlers spawned nothing, costs no promise here.
 */
function runRequest(listener: FrameworkListener, exchange: Exchange): Promise<void> | void {
  const { request, response } = exchange;
  const tasks = new RequestTasks(exchange);
  (request as Served)[TASKS] = tasks;
  tasks.inListener = true;
  let result: unknown;
  try {
    result = listener(request, response);
  } catch (error) {
    tasks.inListener = false;
    if (tasks.inline === null && tasks.queued === null) {
      tasks.over = true;
      throw error;
    }
    return tasks.finish(Promise.reject(error)); // after the handlers it started, as a promise that rejected
  }
  tasks.inListener = false;
  const thenable = isThenable(result) ? result : undefined;
  if (thenable === undefined && tasks.inline === null && tasks.queued === null && (response.writableEnded || response.destroyed)) {
    tasks.over = true;
    return;
  }
  return tasks.finish(thenable);
}

/** Settles once both have (a handler running in the request's task is never left behind), with the first one's error if any. */
async function bothSettled(first: PromiseLike<unknown>, second: Promise<unknown>): Promise<void> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === "rejected") throw a.reason;
  if (b.status === "rejected") throw b.reason;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}

/**
 * Runs `fn` as part of the request's work, inside the request's scope: it is
 * cancelled with the request, `currentSignal()` in it is the request's (or an
 * inner scope's), and the request's task waits for it. Called while the
 * listener runs (the framework calls the handler at once), and with no other
 * handler running, `fn` is called right away in the request's own task;
 * otherwise it runs as a new task of the request, in a task group the
 * request's task opens for it (named after the request; `name` names the
 * task). `fn` must handle its own errors — hand them to the framework's error
 * handling, and let the request's cancellation (see
 * {@link asRequestCancellation}) go on — because an error it lets out fails
 * the request: the client gets a 500 (a 503, if it had to cancel a handler
 * running in the request's task), and the error is reported on stderr.
 * Returns true; or false, without running `fn`,
 * if the request is not served by {@link serveFramework} (an app tested with
 * its framework's own tools, say), so that the caller can run the handler
 * as it is. Throws an Error if the request's task has ended (its response was
 * finished and its handlers had returned): nothing would wait for `fn`.
 *
 * @example
 * ```ts
 * import type { IncomingMessage, ServerResponse } from "node:http";
 * import { isCancelled, sleep } from "@quartet/core";
 * import { asRequestCancellation, spawnRequestTask } from "@quartet/node/frameworks";
 *
 * // A framework's handler (request, response, next), run as a task of its request.
 * function asTask(handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>) {
 *   return (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void => {
 *     const served = spawnRequestTask(request, async () => {
 *       try {
 *         await handler(request, response);
 *       } catch (error) {
 *         const cause = asRequestCancellation(request, error);
 *         if (isCancelled(cause)) throw cause; // the request's scope catches it
 *         next(error); // the framework's error handling
 *       }
 *     });
 *     if (!served) handler(request, response).catch(next); // not served by Quartet: as it is
 *   };
 * }
 * const slow = asTask(async (_request, response) => {
 *   await sleep(100);
 *   response.end("done\n");
 * });
 * console.log(slow.length); // 3
 * ```
 */
export function spawnRequestTask(request: IncomingMessage, fn: () => Promise<void>, name?: string): boolean {
  requireFunction(fn, "spawnRequestTask() fn");
  const tasks = (request as Served | null)?.[TASKS];
  if (tasks === undefined) return false;
  tasks.spawn(fn, name);
  return true;
}

/**
 * What `error`, let out by code working on `request`, is: once the request's
 * scope is cancelled, an error that comes from the request's streams (its body
 * that ended with the cancellation, a response the server took over, a client
 * that went away: `ECONNRESET`, `EPIPE`, `ERR_STREAM_WRITE_AFTER_END`, …) is
 * that cancellation, and this returns the request's `Cancelled`. Otherwise (or
 * for a request not served by {@link serveFramework}) it returns `error` as it
 * is. Adapters use it to keep the request's cancellation away from the
 * framework's error handling: it is not a failure.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from "node:http";
 * import { isCancelled } from "@quartet/core";
 * import { asRequestCancellation } from "@quartet/node/frameworks";
 *
 * function isFailure(request: IncomingMessage, error: unknown): boolean {
 *   return !isCancelled(asRequestCancellation(request, error)); // only failures go to the error handler
 * }
 * console.log(isFailure({} as IncomingMessage, new Error("boom"))); // true
 * ```
 */
export function asRequestCancellation(request: IncomingMessage, error: unknown): unknown {
  const tasks = (request as Served | null)?.[TASKS];
  if (tasks === undefined) return error;
  return asCancellation(error, request, tasks.exchange.response, tasks.exchange.cancelled);
}

/**
 * The TypeError for an argument that is not what a function takes, in the
 * words of Quartet's own checks: `${what} must be ${expected}; got …`, with a
 * short, safe description of `value`.
 *
 * @example
 * ```ts
 * import { argumentError } from "@quartet/node/frameworks";
 *
 * const error = argumentError("serveTiny() app", "a Tiny application", 42);
 * console.log(error.message); // "serveTiny() app must be a Tiny application; got 42"
 * ```
 */
export function argumentError(what: string, expected: string, value: unknown): TypeError {
  return new TypeError(`${what} must be ${expected}; got ${describe(value)}`);
}
