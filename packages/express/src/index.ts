/**
 * `@quartet/express`: Express 5 with Quartet. `serveExpress(app, options,
 * status)` serves an Express app so that every request has a cancel scope of
 * its own — cancelled when the client goes away, when the request's deadline
 * passes and when the server shuts down — and `asTask(handler)` runs a route
 * handler or middleware as a Quartet task in that scope.
 *
 * @module @quartet/express
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { TASK_STATUS_IGNORED, isCancelled, type TaskStatus } from "@quartet/core";
import { argumentError, asRequestCancellation, serveFramework, spawnRequestTask, type FrameworkServeOptions } from "@quartet/node/frameworks";
import type { Application, ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";

/**
 * Options of {@link serveExpress}: `serveHttp`'s names and meanings. Body
 * size limits are Express's (`express.json({ limit })`, …), and errors go to
 * Express's error handling.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { runMain } from "@quartet/node";
 * import { serveExpress } from "@quartet/express";
 *
 * const app = express();
 * app.get("/", (_request, response) => void response.send("ok\n"));
 * await runMain(() =>
 *   serveExpress(app, {
 *     port: 8080,
 *     host: "127.0.0.1", // local clients only
 *     requestTimeout: 10_000, // after 10 s the request is cancelled, and its client gets a 503
 *     headersTimeout: 5000, // a client that has not sent its headers within 5 s gets a 408
 *     gracePeriod: 5000, // on Ctrl-C, requests in flight get 5 s to finish
 *   }),
 * );
 * ```
 */
export interface ServeExpressOptions extends FrameworkServeOptions {
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

/**
 * Serves the Express app `app` on `options.port`, shaped for `tg.start()`:
 * once it listens, `status.started()` gets the bound address. Every request is
 * a Quartet task inside a cancel scope of its own (named after the request,
 * `GET /report`), which is cancelled
 *
 * - when the client disconnects before the response is finished (the
 *   `Cancelled`'s `origin.kind` is `"disconnect"`);
 * - when `requestTimeout` ms have passed (`"deadline"`; the client gets a 503
 *   at that moment, even if the handler ignores its signal);
 * - when the server shuts down, after `gracePeriod` ms (`"shutdown"`; the
 *   client gets a 503).
 *
 * Handlers wrapped in {@link asTask} run as tasks in that scope:
 * `currentSignal()` is the request's signal, every Quartet primitive works,
 * and a task group they open is cancelled with the request. Their errors go to
 * Express (`next(error)`: the error middleware, or Express's final handler);
 * the request's cancellation does not — no 500, no error logged — and neither
 * does an error that the cancellation caused in another middleware (a body
 * parser whose body ended with it).
 *
 * Cancelling the server stops it accepting connections, gives requests in
 * flight `gracePeriod` ms, then cancels them, waits for their cleanup and
 * closes every connection. It never returns normally; errors of the server
 * itself (such as `EADDRINUSE`) and bad options are thrown.
 *
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import express from "express";
 * import { sleep, taskGroup } from "@quartet/core";
 * import { asTask, serveExpress } from "@quartet/express";
 *
 * const app = express();
 * app.get("/hello", asTask(async (request, response) => {
 *   await sleep(10); // cancelled if the client goes away or time runs out
 *   response.send(`you asked for ${request.url}\n`);
 * }));
 *
 * await taskGroup(async (tg) => {
 *   const { port } = await tg.start<AddressInfo>((status) =>
 *     serveExpress(app, { port: 0, host: "127.0.0.1", requestTimeout: 5000 }, status),
 *   );
 *   console.log(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()); // "you asked for /hello"
 *   tg.cancelScope.cancel(); // stops the server
 * });
 * ```
 */
export function serveExpress(
  app: Application,
  options: ServeExpressOptions,
  status: TaskStatus<AddressInfo> = TASK_STATUS_IGNORED,
): Promise<never> {
  const handle = (app as unknown as Partial<ExpressApp> | null)?.handle;
  if (typeof app !== "function" || typeof handle !== "function" || typeof app.get !== "function") {
    return Promise.reject(argumentError("serveExpress() app", "an Express application (from express())", app));
  }
  const finalHandler = loadFinalHandler();
  return serveFramework(
    "serveExpress",
    (request, response) => {
      const done = (error?: unknown): void => {
        // The request's cancellation, as a middleware that was not a task met it (a body that ended with it): not a failure.
        if (error !== undefined && isCancelled(asRequestCancellation(request, error))) return;
        if (finalHandler === null) throw error; // not reached: Express is installed with its final handler
        finalHandler(request, response, { env: app.get("env"), onerror: (failure: Error) => logError(app, failure) })(error);
      };
      handle.call(app, request, response, done);
    },
    options,
    status,
  );
}

/** An Express app as `serveExpress` uses it: Express's typings leave out `app.handle(request, response, done)`. */
type ExpressApp = Application & { handle(request: IncomingMessage, response: ServerResponse, done: (error?: unknown) => void): void };

/** An Express request handler (`(request, response, next)`) or error handler (`(error, request, response, next)`). */
type Handler = RequestHandler | ErrorRequestHandler;

/**
 * Wraps an Express handler — a route handler, a middleware, or an error
 * handler (four parameters) — so that it runs as a Quartet task of its
 * request, inside the request's cancel scope, when the app is served by
 * {@link serveExpress}: `currentSignal()` is the request's signal, every
 * Quartet primitive works, and the request's task waits for it.
 *
 * An error it throws, or rejects with, goes to `next(error)` — Express's
 * error handling. The request's cancellation (a `Cancelled`, or an error that
 * the cancellation caused, such as a write to a response the server already
 * answered) goes nowhere: the server has answered the client (503) or the
 * client is gone. For a request not served by `serveExpress` (an app tested
 * with supertest, say), the handler runs as it is.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { currentSignal, taskGroup } from "@quartet/core";
 * import { asTask } from "@quartet/express";
 *
 * const app = express();
 * app.get("/user/:id", asTask(async (request, response) => {
 *   const [user, orders] = await Promise.all([
 *     fetch(`http://users.internal/${request.params.id}`, { signal: currentSignal() }), // aborted with the request
 *     fetch(`http://orders.internal/?user=${request.params.id}`, { signal: currentSignal() }),
 *   ]);
 *   response.json({ user: await user.json(), orders: await orders.json() });
 * }));
 * app.get("/both", asTask(async (_request, response) => {
 *   await taskGroup(async (tg) => { // cancelled with the request, like every task of it
 *     tg.spawn(() => fetch("http://a.internal/", { signal: currentSignal() }));
 *     tg.spawn(() => fetch("http://b.internal/", { signal: currentSignal() }));
 *   });
 *   response.send("both done\n");
 * }));
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any request types, as Express's own defaults
export function asTask<H extends RequestHandler<any, any, any, any, any>>(handler: H): H;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function asTask<H extends ErrorRequestHandler<any, any, any, any, any>>(handler: H): H;
export function asTask<H extends Handler>(handler: H): H {
  if (typeof handler !== "function") throw argumentError("asTask() handler", "a function", handler);
  const name = handler.name || undefined;
  const run = (request: Request, next: NextFunction, call: () => unknown): unknown => {
    const task = async (): Promise<void> => {
      try {
        await call();
      } catch (error) {
        const cancellation = asRequestCancellation(request, error);
        if (isCancelled(cancellation)) throw cancellation; // the request's scope catches it
        next(error);
      }
    };
    // Not served by serveExpress (an app under test with supertest, say): the handler as it is, and Express awaits it.
    return spawnRequestTask(request, task, name) ? undefined : call();
  };
  // Express tells error handlers by their four parameters.
  const wrapped =
    handler.length === 4
      ? function (this: unknown, error: unknown, request: Request, response: Response, next: NextFunction): unknown {
          return run(request, next, () => (handler as ErrorRequestHandler).call(this, error, request, response, next));
        }
      : function (this: unknown, request: Request, response: Response, next: NextFunction): unknown {
          return run(request, next, () => (handler as RequestHandler).call(this, request, response, next));
        };
  Object.defineProperty(wrapped, "name", { value: handler.name });
  return wrapped as H;
}

/** What Express's final handler (the `finalhandler` package) looks like. */
type FinalHandler = (
  request: unknown,
  response: unknown,
  options: { env: unknown; onerror: (error: Error) => void },
) => (error?: unknown) => void;

/**
 * Express's own final handler (404 for a request nothing answered, the error
 * page for an error no middleware handled), from Express's installation, so
 * that it is the one `app.handle()` would use. `null` if it cannot be found.
 */
function loadFinalHandler(): FinalHandler | null {
  try {
    const express = createRequire(import.meta.url).resolve("express");
    return createRequire(express)("finalhandler") as FinalHandler;
  } catch {
    return null;
  }
}

/** What Express logs for an error its final handler answers (except under NODE_ENV=test), as Express does. */
function logError(app: Application, error: Error): void {
  if (app.get("env") !== "test") console.error(error.stack || error.toString());
}
