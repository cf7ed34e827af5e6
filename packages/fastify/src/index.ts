/**
 * `@quartet/fastify`: Fastify 5 with Quartet. The `quartetRoutes` plugin makes
 * every route handler a Quartet task, and `serveFastify(app, options, status)`
 * serves the app so that every request has a cancel scope of its own —
 * cancelled when the client goes away, when the request's deadline passes and
 * when the server shuts down.
 *
 * @module @quartet/fastify
 */

import type { AddressInfo } from "node:net";
import { TASK_STATUS_IGNORED, isCancelled, type TaskStatus } from "@quartet/core";
import { argumentError, asRequestCancellation, serveFramework, spawnRequestTask, type FrameworkServeOptions } from "@quartet/node/frameworks";
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteHandlerMethod } from "fastify";

/**
 * Options of {@link serveFastify}: `serveHttp`'s names and meanings. Body
 * size limits are Fastify's (`bodyLimit`), and errors go to Fastify's error
 * handler.
 *
 * @example
 * ```ts
 * import fastify from "fastify";
 * import { runMain } from "@quartet/node";
 * import { quartetRoutes, serveFastify } from "@quartet/fastify";
 *
 * const app = fastify();
 * await app.register(quartetRoutes);
 * app.get("/", async () => "ok\n");
 * await runMain(() =>
 *   serveFastify(app, {
 *     port: 8080,
 *     host: "127.0.0.1", // local clients only
 *     requestTimeout: 10_000, // after 10 s the request is cancelled, and its client gets a 503
 *     headersTimeout: 5000, // a client that has not sent its headers within 5 s gets a 408
 *     gracePeriod: 5000, // on Ctrl-C, requests in flight get 5 s to finish
 *   }),
 * );
 * ```
 */
export interface ServeFastifyOptions extends FrameworkServeOptions {
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

/** The Fastify instances that `quartetRoutes` was registered on. */
const withRoutesAsTasks = new WeakSet<object>();

/**
 * A Fastify plugin that makes every route handler declared after it (in the
 * instance it is registered on and in every plugin registered there) run as a
 * Quartet task of its request, inside the request's cancel scope, when the app
 * is served by {@link serveFastify}: `currentSignal()` is the request's signal,
 * every Quartet primitive works, and a task group the handler opens is
 * cancelled with the request. Register it first, like any plugin that
 * adds an `onRoute` hook.
 *
 * A handler runs as an async function: it returns its payload (or
 * `reply`, after `reply.send()`). An error it throws goes to Fastify's error
 * handler. The request's cancellation (a `Cancelled`, or an error the
 * cancellation caused) does not — no 500, no error logged: the server has
 * answered the client (503) or the client is gone, and the reply is taken
 * out of Fastify's hands (`reply.hijack()`), as is what the handler returns
 * after the request was cancelled. For requests not served by `serveFastify`
 * (`app.inject()` in a test), handlers run as they are.
 *
 * @example
 * ```ts
 * import fastify from "fastify";
 * import { currentSignal, sleep } from "@quartet/core";
 * import { quartetRoutes } from "@quartet/fastify";
 *
 * const app = fastify();
 * await app.register(quartetRoutes); // before the routes
 * app.get("/report", async () => {
 *   await sleep(100); // cancelled if the client goes away or time runs out
 *   const upstream = await fetch("http://reports.internal/", { signal: currentSignal() }); // aborted with the request
 *   return upstream.json();
 * });
 * ```
 */
export const quartetRoutes: FastifyPluginCallback = Object.assign(
  function quartetRoutes(instance: FastifyInstance, _options: unknown, done: (error?: Error) => void): void {
    withRoutesAsTasks.add(instance);
    instance.addHook("onRoute", (route) => {
      route.handler = asTask(route.handler);
    });
    done();
  },
  {
    // What fastify-plugin does: the hook applies to the instance the plugin is registered on, not to a child of it.
    [Symbol.for("skip-override")]: true,
    [Symbol.for("fastify.display-name")]: "@quartet/fastify",
  },
);

/** A route handler that runs as a task of its request (see {@link quartetRoutes}). */
function asTask(handler: RouteHandlerMethod): RouteHandlerMethod {
  const name = handler.name || undefined;
  return function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const call = (): unknown => handler.call(this, request, reply);
      const task = async (): Promise<void> => {
        try {
          const payload = await call();
          if (!reply.raw.writableEnded && !reply.raw.destroyed) return resolve(payload);
          reply.hijack(); // answered (by the handler, or by the server for a cancelled request): nothing left for Fastify
          resolve(undefined);
        } catch (error) {
          const cancellation = asRequestCancellation(request.raw, error);
          if (!isCancelled(cancellation)) return reject(error); // to Fastify's error handler
          reply.hijack();
          resolve(undefined);
          throw cancellation; // the request's scope catches it
        }
      };
      // Not served by serveFastify (app.inject(), say): the handler as it is.
      if (!spawnRequestTask(request.raw, task, name)) {
        try {
          resolve(call());
        } catch (error) {
          reject(error);
        }
      }
    });
  };
}

/**
 * Serves the Fastify app `app` on `options.port`, shaped for `tg.start()`:
 * it waits for the app to be ready (its plugins loaded), listens, and gives
 * `status.started()` the bound address. Every request is a Quartet task inside
 * a cancel scope of its own (named after the request, `GET /report`), which is
 * cancelled
 *
 * - when the client disconnects before the response is finished (the
 *   `Cancelled`'s `origin.kind` is `"disconnect"`);
 * - when `requestTimeout` ms have passed (`"deadline"`; the client gets a 503
 *   at that moment, even if the handler ignores its signal);
 * - when the server shuts down, after `gracePeriod` ms (`"shutdown"`; the
 *   client gets a 503).
 *
 * The route handlers are tasks in that scope: `app` must have
 * {@link quartetRoutes} registered (a TypeError says so if not). The server
 * is `serveFastify`'s own `node:http` server, which hands requests to
 * `app.routing`; Fastify's `app.server` is not used.
 *
 * Cancelling the server stops it accepting connections, gives requests in
 * flight `gracePeriod` ms, then cancels them, waits for their cleanup, closes
 * every connection, and closes the app (`app.close()`: its `onClose` hooks
 * run). It never returns normally; errors of the server itself (such as
 * `EADDRINUSE`) and bad options are thrown.
 *
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import fastify from "fastify";
 * import { sleep, taskGroup } from "@quartet/core";
 * import { quartetRoutes, serveFastify } from "@quartet/fastify";
 *
 * const app = fastify();
 * await app.register(quartetRoutes);
 * app.get("/hello", async (request) => {
 *   await sleep(10); // cancelled if the client goes away or time runs out
 *   return `you asked for ${request.url}\n`;
 * });
 *
 * await taskGroup(async (tg) => {
 *   const { port } = await tg.start<AddressInfo>((status) =>
 *     serveFastify(app, { port: 0, host: "127.0.0.1", requestTimeout: 5000 }, status),
 *   );
 *   console.log(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()); // "you asked for /hello"
 *   tg.cancelScope.cancel(); // stops the server, and closes the app
 * });
 * ```
 */
export async function serveFastify(
  app: FastifyInstance,
  options: ServeFastifyOptions,
  status: TaskStatus<AddressInfo> = TASK_STATUS_IGNORED,
): Promise<never> {
  const candidate = app as Partial<FastifyInstance> | null;
  if (candidate === null || typeof candidate !== "object" || typeof candidate.routing !== "function" || typeof candidate.ready !== "function") {
    throw argumentError("serveFastify() app", "a Fastify instance (from fastify())", app);
  }
  try {
    await app.ready();
    if (!withRoutesAsTasks.has(app)) {
      throw new TypeError("serveFastify() app must have the quartetRoutes plugin registered before its routes (await app.register(quartetRoutes))");
    }
    return await serveFramework("serveFastify", (request, response) => app.routing(request, response), options, status);
  } finally {
    await app.close();
  }
}
