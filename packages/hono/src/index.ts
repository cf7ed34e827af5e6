/**
 * `@quartet/hono`: Hono 4 on Node (`@hono/node-server`) with Quartet.
 * `serveHono(app, options, status)` serves a Hono app so that every request
 * is a Quartet task with a cancel scope of its own — cancelled when the client
 * goes away, when the request's deadline passes and when the server shuts
 * down — in which the app's middleware and handlers run.
 *
 * @module @quartet/hono
 */

import type { AddressInfo } from "node:net";
import { getRequestListener, type HttpBindings } from "@hono/node-server";
import { TASK_STATUS_IGNORED, isCancelled, type TaskStatus } from "@quartet/core";
import { argumentError, asRequestCancellation, serveFramework, type FrameworkServeOptions } from "@quartet/node/frameworks";
import type { Context, ErrorHandler, Hono } from "hono";

/**
 * Options of {@link serveHono}: `serveHttp`'s names and meanings. Body size
 * limits are the app's (Hono's `bodyLimit` middleware), and errors go to the
 * app's `onError`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { runMain } from "@quartet/node";
 * import { serveHono } from "@quartet/hono";
 *
 * const app = new Hono();
 * app.get("/", (c) => c.text("ok\n"));
 * await runMain(() =>
 *   serveHono(app, {
 *     port: 8080,
 *     host: "127.0.0.1", // local clients only
 *     requestTimeout: 10_000, // after 10 s the request is cancelled, and its client gets a 503
 *     headersTimeout: 5000, // a client that has not sent its headers within 5 s gets a 408
 *     gracePeriod: 5000, // on Ctrl-C, requests in flight get 5 s to finish
 *   }),
 * );
 * ```
 */
export interface ServeHonoOptions extends FrameworkServeOptions {
  /** The port to listen on; 0 picks a free one (see the address given to `started()`). */
  port: number;
  /** The address to listen on. Default: every interface. */
  host?: string;
  /**
   * The longest a request may take, in ms on the runtime clock, from the
   * moment its headers have arrived. Then its scope is cancelled (origin kind
   * `"deadline"`) and the client gets a 503 at once — or a closed connection,
   * if headers were sent — while the handler unwinds. Default: no limit.
   */
  requestTimeout?: number;
  /** How long a client may take to send a request's headers, in ms, before it gets a 408 (Node's check). Default 30 000. */
  headersTimeout?: number;
  /** When the server is cancelled, how many ms requests in flight get to finish before they are cancelled. Default 0. */
  gracePeriod?: number;
}

/** Any Hono app, whatever its bindings and routes. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHono = Hono<any, any, any>;

/**
 * Serves the Hono app `app` with `@hono/node-server` on `options.port`,
 * shaped for `tg.start()`: once it listens, `status.started()` gets the bound
 * address. Every request is a Quartet task inside a cancel scope of its own
 * (named after the request, `GET /report`), in which the app's middleware and
 * handlers run: `currentSignal()` is the request's signal, every Quartet
 * primitive works, and a task group a handler opens is cancelled with the
 * request. The scope is cancelled
 *
 * - when the client disconnects before the response is finished (the
 *   `Cancelled`'s `origin.kind` is `"disconnect"`);
 * - when `requestTimeout` ms have passed (`"deadline"`; the client gets a 503
 *   at that moment, even if the handler ignores its signal);
 * - when the server shuts down, after `gracePeriod` ms (`"shutdown"`; the
 *   client gets a 503).
 *
 * A handler's error goes to the app's `onError` (Hono's default: logged, and a
 * 500). The request's cancellation does not — no 500, no error logged — nor
 * does what a handler returns after it: the server has answered the client or
 * the client is gone. (`serveHono` puts a check in front of the app's error
 * handler, including one set later with `app.onError()`; a sub-app with an
 * `onError` of its own, mounted with `app.route()`, sees the cancellation.)
 * In the handlers, `c.env` has Node's `incoming` and `outgoing`
 * (`HttpBindings`).
 *
 * Cancelling the server stops it accepting connections, gives requests in
 * flight `gracePeriod` ms, then cancels them, waits for their cleanup and
 * closes every connection. It never returns normally; errors of the server
 * itself (such as `EADDRINUSE`) and bad options are thrown.
 *
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { Hono } from "hono";
 * import { sleep, taskGroup } from "@quartet/core";
 * import { serveHono } from "@quartet/hono";
 *
 * const app = new Hono();
 * app.get("/hello", async (c) => {
 *   await sleep(10); // cancelled if the client goes away or time runs out
 *   return c.text(`you asked for ${c.req.path}\n`);
 * });
 *
 * await taskGroup(async (tg) => {
 *   const { port } = await tg.start<AddressInfo>((status) =>
 *     serveHono(app, { port: 0, host: "127.0.0.1", requestTimeout: 5000 }, status),
 *   );
 *   console.log(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()); // "you asked for /hello"
 *   tg.cancelScope.cancel(); // stops the server
 * });
 * ```
 */
export async function serveHono(app: AnyHono, options: ServeHonoOptions, status: TaskStatus<AddressInfo> = TASK_STATUS_IGNORED): Promise<never> {
  const candidate = app as Partial<AnyHono> | null;
  if (candidate === null || typeof candidate !== "object" || typeof candidate.fetch !== "function" || typeof candidate.onError !== "function") {
    throw argumentError("serveHono() app", "a Hono app (from new Hono())", app);
  }
  keepCancellationFromOnError(app);
  const listener = getRequestListener(
    (request, bindings) => {
      const env = bindings as HttpBindings; // serveHono serves HTTP/1.1
      // A response that is not a promise goes out at once (@hono/node-server's fast path for a handler that answers at once).
      const response = app.fetch(request, env);
      return response instanceof Promise ? response.then((late) => inTime(late, env)) : inTime(response, env);
    },
    {
      // What the app let out (its onError threw, or the request was cancelled): as @hono/node-server's own, but
      // for the cancellation, whose answer the server has given.
      errorHandler: (error) => (error === TOO_LATE || isCancelled(error) ? undefined : new Response(null, { status: 500 })),
    },
  );
  return serveFramework("serveHono", listener, options, status);
}

/** Thrown for a response that comes after the server answered for its request (it was cancelled). */
const TOO_LATE = Symbol("too late");

/** `response`, unless the server has answered for the request already (it was cancelled): then it is dropped. */
function inTime(response: Response, { outgoing }: HttpBindings): Response {
  if (outgoing.writableEnded || outgoing.destroyed) throw TOO_LATE;
  return response;
}

/** The apps whose error handler {@link keepCancellationFromOnError} guards. */
const guarded = new WeakSet<object>();

/**
 * Puts a check in front of the app's error handler (and of any set later with
 * `app.onError()`): the request's cancellation is thrown on, out of the app,
 * instead of being handled as a failure.
 */
function keepCancellationFromOnError(app: AnyHono): void {
  if (guarded.has(app)) return;
  guarded.add(app);
  let handler = (app as unknown as { errorHandler: ErrorHandler }).errorHandler; // public since Hono 4.0, typed private
  const guard: ErrorHandler = (error: Error, c: Context) => {
    const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
    const cancellation = incoming === undefined ? error : asRequestCancellation(incoming, error);
    if (isCancelled(cancellation)) throw cancellation;
    return handler(error, c);
  };
  Object.defineProperty(app, "errorHandler", {
    configurable: true,
    enumerable: true,
    get: () => guard,
    set: (replacement: ErrorHandler) => {
      handler = replacement;
    },
  });
}
