/**
 * HTTP serving: `serveHttp`, where every request is a task in its own cancel
 * scope.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CancelScope, TASK_STATUS_IGNORED, isCancelled, now, type TaskStatus } from "@quartet/core";
import { checkListenOptions, printError, serve } from "./internal/serve.js";
import { requireFunction, requireOptionalDuration } from "./internal/validate.js";

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
   * (the client went away, the request timed out, the server is shutting
   * down). Pass it to foreign calls (`fetch`, database drivers) made for the
   * request. Inside the handler, `currentSignal()` returns the same signal.
   */
  readonly signal: AbortSignal;
  /**
   * The request's cancel scope. Its `deadline` is the request timeout and can
   * be moved (for a request that may take longer); `cancelCalled` tells cleanup
   * code whether the request was cut short.
   */
  readonly scope: CancelScope;
}

/**
 * A request handler for {@link serveHttp}: Node's request and response, and
 * the request's {@link RequestContext}. When it returns, the response is ended
 * if it has not been.
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
   * The longest a request may take, in ms on the runtime clock: then its scope
   * is cancelled and, if no headers were sent yet, the client gets a 503.
   * Default: no limit.
   */
  requestTimeout?: number;
  /** When the server is cancelled, how many ms requests in flight get to finish before they are cancelled. Default 0. */
  gracePeriod?: number;
  /**
   * Called with the error of a handler that failed, after the client got a 500
   * (or, if the response had begun, after the connection was closed). The server
   * goes on serving. Default: print the error to stderr with the request's method
   * and URL. If `onError` throws, that error stops the server and is thrown by
   * `serveHttp`.
   */
  onError?: (error: unknown, request: IncomingMessage) => void;
}

/** The `reason` of the `Cancelled` that a request gets when its client disconnects. */
const DISCONNECTED = "the client disconnected before the response was finished";

/**
 * An HTTP server (`node:http`) shaped for `tg.start()`: it listens on
 * `options.port` and, once it does, calls `status.started()` with the bound
 * address (`{ address, family, port }`; port 0 picks a free port). Then every
 * request runs `handler(request, response, { signal, scope })` as a new task of
 * the server, inside a cancel scope of its own, until the server is cancelled.
 *
 * The request's scope is cancelled when the client disconnects before the
 * response is finished, and when `requestTimeout` ms have passed; on a timeout,
 * a response with no headers sent yet becomes a 503. A handler that throws gets
 * the client a 500 (or, once headers are out, a closed connection, so that a
 * truncated response cannot pass for a whole one); its error goes to `onError`
 * and the server goes on. When the handler returns, the response is ended.
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
  checkListenOptions(options, "serveHttp()");
  requireOptionalDuration(options.requestTimeout, "serveHttp() requestTimeout");
  const { requestTimeout = Infinity, onError } = options;
  const report =
    onError ?? ((error: unknown, request: IncomingMessage) => printError(`serveHttp: ${request.method} ${request.url}`, error));
  const server = createServer();
  return serve(
    "serveHttp",
    server,
    options,
    status,
    (spawn) => {
      server.on("request", (request: IncomingMessage, response: ServerResponse) => {
        const task = () => handleRequest(handler, request, response, requestTimeout, report);
        if (!spawn(task, `${request.method} ${request.url}`)) {
          respond(response, 503, "the server is shutting down", true);
        }
      });
    },
    () => server.closeAllConnections(),
  );
}

/** One request's task: the handler in the request's scope, then whatever response the outcome calls for. */
async function handleRequest(
  handler: HttpHandler,
  request: IncomingMessage,
  response: ServerResponse,
  requestTimeout: number,
  report: (error: unknown, request: IncomingMessage) => void,
): Promise<void> {
  const scope = new CancelScope({ deadline: requestTimeout === Infinity ? Infinity : now() + requestTimeout });
  const onClose = (): void => {
    if (!response.writableFinished) scope.cancel(DISCONNECTED);
  };
  response.once("close", onClose);
  try {
    await scope.run((scope) => handler(request, response, { signal: scope.signal, scope }));
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
    response.off("close", onClose);
  }
  if (response.writableEnded) return;
  if (scope.cancelCalled) respond(response, 503, "the request timed out", false);
  else response.end();
}

/** Ends a response the handler could not finish: a plain-text error if nothing was sent yet, else a closed connection. */
function respond(response: ServerResponse, status: number, message: string, closeConnection: boolean): void {
  if (response.writableEnded || response.destroyed) return;
  if (response.headersSent) {
    response.destroy(); // a cut-off body must not look complete to the client
    return;
  }
  const body = `${message}\n`;
  for (const name of response.getHeaderNames()) response.removeHeader(name); // the handler's headers were for another body
  response.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    ...(closeConnection ? { connection: "close" } : {}),
  });
  response.end(body);
}
