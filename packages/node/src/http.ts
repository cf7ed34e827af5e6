/**
 * HTTP serving: `serveHttp`, where every request is a task in its own cancel
 * scope.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CancelScope, TASK_STATUS_IGNORED, isCancelled, now, type TaskStatus } from "@quartet/core";
import { Exchange, respond } from "./internal/http-exchange.js";
import { checkListenOptions, printError, serve } from "./internal/serve.js";
import { requireByteCount, requireFunction, requireOptionalDuration, requirePositiveDuration } from "./internal/validate.js";

/**
 * What a request handler gets besides the request and the response.
 *
 * @example
 * ```ts
 * import { runMain, serveHttp, type RequestContext } from "@quartet/node";
 *
 * await runMain(() =>
 *   serveHttp(async (request, response, { signal, scope }: RequestContext) => {
 *     scope.deadline += 30_000; // this request may take longer than requestTimeout
 *     const upstream = await fetch("https://example.com/report", { signal }); // aborted if the client goes away
 *     response.end(await upstream.text());
 *   }, { port: 8080, requestTimeout: 5000 }),
 * );
 * ```
 */
export interface RequestContext {
  /**
   * The request's AbortSignal: it aborts when the request's scope is cancelled
   * (the client went away, the request timed out, its body was too large, the
   * server is shutting down). Pass it to foreign calls (`fetch`, database
   * drivers) made for the request. Inside the handler, `currentSignal()`
   * returns the same signal.
   */
  readonly signal: AbortSignal;
  /**
   * The request's cancel scope. Its `deadline` is the request timeout and can
   * be moved (for a request that may take longer); `cancelCalled` tells cleanup
   * code whether the request was cut short. Cancelling it ends the request as
   * a timeout does: the client gets a 503 at once.
   */
  readonly scope: CancelScope;
}

/**
 * A request handler for {@link serveHttp}: Node's request and response, and
 * the request's {@link RequestContext}. When it returns, the response is ended
 * if it has not been. Once the request is cancelled, the response is the
 * server's: what the handler writes after that is dropped.
 *
 * @example
 * ```ts
 * import { runMain, serveHttp, type HttpHandler } from "@quartet/node";
 *
 * const hello: HttpHandler = (request, response) => {
 *   response.setHeader("content-type", "text/plain; charset=utf-8");
 *   response.end(`hello from ${request.url}\n`);
 * };
 * await runMain(() => serveHttp(hello, { port: 8080 })); // serves until Ctrl-C
 * ```
 */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse, context: RequestContext) => Promise<void> | void;

/**
 * Options of {@link serveHttp}.
 *
 * @example
 * ```ts
 * import { runMain, serveHttp } from "@quartet/node";
 *
 * await runMain(() =>
 *   serveHttp((request, response) => { response.end("ok\n"); }, {
 *     port: 8080,
 *     host: "127.0.0.1", // local clients only
 *     requestTimeout: 10_000, // after 10 s the request is cancelled (and gets a 503 if nothing was sent)
 *     headersTimeout: 5000, // a client that has not sent its headers within 5 s gets a 408
 *     maxBodySize: (request) => (request.url === "/upload" ? 100 * 2 ** 20 : 64 * 1024), // bytes; more gets a 413
 *     gracePeriod: 5000, // on Ctrl-C, requests in flight get 5 s to finish
 *     onError: (error, request) => console.error(`${request.method} ${request.url} failed:`, error),
 *   }),
 * );
 * ```
 */
export interface ServeHttpOptions {
  /** The port to listen on; 0 picks a free one (see the address given to `started()`). */
  port: number;
  /** The address to listen on. Default: every interface. */
  host?: string;
  /**
   * The longest a request may take, in ms on the runtime clock, from the moment
   * its headers have arrived: reading its body, the handler's work, sending the
   * response. Then its scope is cancelled and the server answers at once — a
   * 503 if no headers were sent yet, else a closed connection — while the
   * handler unwinds. The handler can move its own deadline (`scope.deadline`).
   * Default: no limit.
   */
  requestTimeout?: number;
  /**
   * The longest a client may take to send a request's headers, in ms, counted
   * from the start of the request (or of the connection, for its first one):
   * then it gets a 408 and the connection is closed, so that connections that
   * trickle in their headers (slowloris) or send nothing at all do not stay
   * open. Checked by Node on the real clock (not the runtime clock), about every
   * tenth of the time (at most every second). `Infinity` turns the check off.
   * Default 30 000 (30 s).
   */
  headersTimeout?: number;
  /**
   * The largest request body accepted, in bytes as they arrive (before any
   * decompression the handler does), or a function that gives the limit for a
   * request (for routes that take uploads). A request that declares a longer
   * body (`Content-Length`) gets a 413 and its handler does not run; a body
   * that grows past the limit as it arrives is refused then: reading it throws
   * a {@link BodyTooLargeError}, the request's scope is cancelled with that
   * error as its reason, and the client gets a 413 (or a closed connection, if
   * headers were sent). `Infinity` for no limit. Default 1 MiB (1 048 576).
   */
  maxBodySize?: number | ((request: IncomingMessage) => number);
  /** When the server is cancelled, how many ms requests in flight get to finish before they are cancelled. Default 0. */
  gracePeriod?: number;
  /**
   * Called with the error of a handler that failed, after the client got a 500
   * (or, if the response had begun, after the connection was closed). The server
   * goes on serving. Default: print the error to stderr with the request's method
   * and URL. If `onError` throws, that error stops the server and is thrown by
   * `serveHttp`.
   *
   * An error caused by the request's cancellation is not a failure: once the
   * request's scope is cancelled, an error that comes from its streams — the
   * body that ended with the cancellation, a response the server took over, a
   * client that went away (`ECONNRESET`, `EPIPE`, `ERR_STREAM_WRITE_AFTER_END`,
   * `ERR_HTTP_HEADERS_SENT`, …) — counts as the cancellation and is not reported.
   */
  onError?: (error: unknown, request: IncomingMessage) => void;
}

/**
 * An HTTP server (`node:http`) shaped for `tg.start()`: it listens on
 * `options.port` and, once it does, calls `status.started()` with the bound
 * address (`{ address, family, port }`; port 0 picks a free port). Then every
 * request runs `handler(request, response, { signal, scope })` as a new task of
 * the server, inside a cancel scope of its own, until the server is cancelled.
 *
 * The request's scope is cancelled when the client disconnects before the
 * response is finished, when `requestTimeout` ms have passed, and when its
 * body goes over `maxBodySize`; the `Cancelled` says which in its `origin`
 * (`kind` `"disconnect"`, `"deadline"`, `"cancel"`, or `"shutdown"` when the
 * server is shutting down). At that moment the server answers for the
 * request — a 503 (a 413 for a body too large) if no headers were sent yet,
 * else a closed connection, so that a truncated response cannot pass for a
 * whole one — and the request's body stream ends with the cancellation,
 * however the handler reads it (`for await`, `'data'`, `pipeline`). The
 * handler unwinds meanwhile (its `finally` blocks run; the server waits for
 * it); what it writes to the response after that is dropped. A handler that
 * throws gets the client a 500 (or, once headers are out, a closed
 * connection); its error goes to `onError` and the server goes on — unless
 * the error was caused by the request's cancellation (see `onError`). When
 * the handler returns, the response is ended; if the handler left the body
 * unread, the connection is closed after the response rather than drained.
 *
 * In the task tree (`taskTree()` in `@quartet/core/lowlevel`, and `runMain`'s
 * dump on SIGUSR2), each request is a task, and a cancel scope, named after
 * the request (`GET /report?year=2024`), in the task group "serveHttp
 * requests" (behind the shielded scope of that name that the shutdown cancels).
 *
 * Clients that take longer than `headersTimeout` to send a request's headers
 * get a 408 and are disconnected (Node's own check).
 *
 * Cancelling the server stops it accepting connections (requests that still
 * arrive on open connections get a 503), gives the requests in flight
 * `gracePeriod` ms to finish, then cancels them, waits for their cleanup, and
 * closes every connection. It never returns normally; errors of the server
 * itself (such as `EADDRINUSE`) are thrown.
 *
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { sleep, taskGroup } from "@quartet/core";
 * import { serveHttp } from "@quartet/node";
 *
 * await taskGroup(async (tg) => {
 *   const { port } = await tg.start<AddressInfo>((status) =>
 *     serveHttp(
 *       async (request, response) => {
 *         await sleep(10); // cancelled if the client goes away or time runs out
 *         response.end(`you asked for ${request.url}\n`);
 *       },
 *       { port: 0, host: "127.0.0.1", requestTimeout: 5000 },
 *       status,
 *     ),
 *   );
 *   const response = await fetch(`http://127.0.0.1:${port}/hello`);
 *   console.log(await response.text()); // "you asked for /hello"
 *   tg.cancelScope.cancel(); // stops the server
 * });
 * ```
 */
export async function serveHttp(
  handler: HttpHandler,
  options: ServeHttpOptions,
  status: TaskStatus<AddressInfo> = TASK_STATUS_IGNORED,
): Promise<never> {
  requireFunction(handler, "serveHttp() handler");
  return serveHttpAs("serveHttp", (exchange) => callHandler(handler, exchange), options, status, DEFAULT_MAX_BODY_SIZE);
}

/**
 * `serveHttp` under another name (`what`, such as "serveExpress"), which its
 * argument errors, its default `onError`, its task tree and its shutdown's
 * reason use, with `serveRequest(exchange)` run for each request in its task,
 * inside the request's scope (what it throws goes through the exchange's
 * `asCancellation`); `defaultMaxBodySize` is the body limit when the options
 * give none. For the framework adapters (`@quartet/node/frameworks`).
 */
export async function serveHttpAs(
  what: string,
  serveRequest: (exchange: Exchange) => Promise<void> | void,
  options: ServeHttpOptions,
  status: TaskStatus<AddressInfo>,
  defaultMaxBodySize: number,
): Promise<never> {
  checkListenOptions(options, `${what}()`);
  requireOptionalDuration(options.requestTimeout, `${what}() requestTimeout`);
  const { requestTimeout = Infinity, headersTimeout = DEFAULT_HEADERS_TIMEOUT, maxBodySize = defaultMaxBodySize, onError } = options;
  requirePositiveDuration(headersTimeout, `${what}() headersTimeout`);
  if (typeof maxBodySize !== "function") requireByteCount(maxBodySize, `${what}() maxBodySize`);
  const report =
    onError ?? ((error: unknown, request: IncomingMessage) => printError(`${what}: ${request.method} ${request.url}`, error));
  const server = createServer({
    // Node's own checks, on the real clock: a client that has not sent a request's headers in time gets a 408.
    headersTimeout: headersTimeout === Infinity ? 0 : Math.ceil(headersTimeout),
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.ceil(headersTimeout / 10))),
    // The request's cancel scope is its timeout (body reading included), and a handler may move its deadline.
    requestTimeout: 0,
  });
  return serve(
    what,
    "requests",
    server,
    options,
    status,
    (spawn) => {
      server.on("request", (request: IncomingMessage, response: ServerResponse) => {
        // Watching the exchange starts now, before the body arrives and before the task runs.
        const name = `${request.method} ${request.url}`;
        const exchange = new Exchange(request, response, new CancelScope({ name }));
        const task = () => handleRequest(what, serveRequest, exchange, requestTimeout, maxBodySize, report);
        if (!spawn(task, name)) {
          exchange.close();
          respond(response, 503, "the server is shutting down", true);
        }
      });
    },
    () => server.closeAllConnections(),
  );
}

/** How long a client may take to send a request's headers, by default. */
const DEFAULT_HEADERS_TIMEOUT = 30_000;
/** The largest request body accepted by default: 1 MiB. */
const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

/** One request's task: the handler in the request's scope, then whatever response the outcome calls for. */
async function handleRequest(
  what: string,
  serveRequest: (exchange: Exchange) => Promise<void> | void,
  exchange: Exchange,
  requestTimeout: number,
  maxBodySize: number | ((request: IncomingMessage) => number),
  report: (error: unknown, request: IncomingMessage) => void,
): Promise<void> {
  const { request, response, scope } = exchange;
  try {
    if (!exchange.limitBody(bodyLimit(what, maxBodySize, request))) return; // refused with a 413; the handler does not run
    if (requestTimeout !== Infinity) scope.deadline = now() + requestTimeout;
    await scope.run(() => guarded(serveRequest, exchange));
  } catch (error) {
    if (isCancelled(error)) {
      // The server is shutting down (the request's own cancellations are caught by its scope).
      respond(response, 503, "the server is shutting down", true);
      throw error;
    }
    respond(response, 500, "internal server error", false);
    report(error, request);
    return;
  } finally {
    exchange.close();
  }
  // Cancelled, the response was taken over (answered, or the connection closed) when it happened.
  if (!response.writableEnded && !response.destroyed) response.end();
}

/**
 * Runs `serveRequest` in the request's scope; what it throws, or rejects
 * with, goes through `asCancellation`. A request served without a promise
 * costs no promise here (the common case of a handler that answers at once).
 */
function guarded(serveRequest: (exchange: Exchange) => Promise<void> | void, exchange: Exchange): Promise<void> | void {
  let result: Promise<void> | void;
  try {
    result = serveRequest(exchange);
  } catch (error) {
    throw exchange.asCancellation(error);
  }
  if (result === undefined) return;
  return Promise.resolve(result).then(undefined, (error: unknown) => {
    throw exchange.asCancellation(error);
  });
}

/** `serveHttp`'s handler, called with the request's context. */
function callHandler(handler: HttpHandler, exchange: Exchange): Promise<void> | void {
  return handler(exchange.request, exchange.response, new HandlerContext(exchange.scope));
}

/** A handler's {@link RequestContext}: the request's AbortSignal is made only if the handler asks for it. */
class HandlerContext implements RequestContext {
  readonly scope: CancelScope;

  constructor(scope: CancelScope) {
    this.scope = scope;
  }

  get signal(): AbortSignal {
    return this.scope.signal;
  }
}

/** The body size limit for `request`. */
function bodyLimit(what: string, maxBodySize: number | ((request: IncomingMessage) => number), request: IncomingMessage): number {
  if (typeof maxBodySize === "number") return maxBodySize;
  const limit = maxBodySize(request);
  requireByteCount(limit, `${what}() maxBodySize(request)'s result`);
  return limit;
}
