/**
 * One request of `serveHttp` while its handler runs: what cancels the
 * request's scope (the client going away, a body over the size limit), and
 * what happens at once when the scope is cancelled for any reason (those, the
 * deadline, the server shutting down, the handler's own `scope.cancel()`).
 *
 * At that moment the server takes the exchange over: the request's body stream
 * ends with the cancellation (however the handler reads it), and the client
 * gets its answer then — a 503 or 413 if no headers were sent, else a closed
 * connection — not when the handler has finished unwinding. From then on the
 * response belongs to the server: the handler's later writes are dropped, and
 * the errors they throw are the cancellation (see `asCancellation`).
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { TimeoutError, isCancelled, type CancelScope, type Cancelled } from "@quartet/core";
import { cancelWithOrigin, onCancelled } from "@quartet/core/lowlevel";
import { BodyTooLargeError } from "../errors.js";
import { inCauseChain, isClosedStreamError } from "./cancellation.js";

/** The `reason` of the `Cancelled` that a request gets when its client disconnects. */
export const DISCONNECTED = "the client disconnected before the response was finished";

/** Where a socket keeps its {@link Connection}. */
const CONNECTION = Symbol("quartet.connection");

/**
 * The exchanges in progress on one socket — usually one, more when the client
 * pipelines — and the socket's one 'close' listener, which tells each of them.
 * One listener per connection rather than one per request: adding and removing
 * a socket listener per request was a tenth of serveHttp's own cost per request.
 */
class Connection {
  readonly exchanges = new Set<Exchange>();

  /** The socket's connection, made (and its listener added) at its first request. */
  static of(socket: Socket): Connection {
    const existing = (socket as Socket & { [CONNECTION]?: Connection })[CONNECTION];
    if (existing !== undefined) return existing;
    const connection = new Connection();
    (socket as Socket & { [CONNECTION]?: Connection })[CONNECTION] = connection;
    // Before Node's own 'close' listener, which destroys the requests with "aborted" (ECONNRESET):
    // their handlers' body streams must end with the cancellation instead.
    socket.prependListener("close", () => {
      for (const exchange of [...connection.exchanges]) exchange.socketClosed();
    });
    return connection;
  }
}

export class Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly scope: CancelScope;
  readonly #connection: Connection;
  #disconnected = false;
  #takenOver = false;
  /** The request's task has ended (`close()`): a later cancellation of its scope has nothing to take over. */
  #closed = false;
  /** The request's cancellation, once its scope is cancelled (what its signal's reason would be). */
  cancelled: Cancelled | null = null;
  /** Body bytes received so far, and the most allowed. */
  #received = 0;
  #maxBodySize = Infinity;
  /** The body length the request declares (`Content-Length`), or -1. */
  #declaredLength = -1;

  constructor(request: IncomingMessage, response: ServerResponse, scope: CancelScope) {
    this.request = request;
    this.response = response;
    this.scope = scope;
    // The response closes before it is finished only when its socket closes: the socket's listener is enough.
    this.#connection = Connection.of(request.socket);
    this.#connection.exchanges.add(this);
    // A callback rather than an 'abort' listener: the scope's AbortSignal is made only if the handler asks for it.
    onCancelled(scope, this.#takeOver);
    // Without Content-Length or Transfer-Encoding, a request has no body (RFC 9112, 6.3): nothing to count.
    // Read from the raw headers: `request.headers` is built on first use, which a handler may never make.
    const raw = request.rawHeaders;
    let hasBody = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 14 && name.toLowerCase() === "content-length") {
        hasBody = true;
        if (this.#declaredLength < 0) this.#declaredLength = Number(raw[i + 1]);
      } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") {
        hasBody = true;
      }
    }
    if (hasBody) this.#countBody();
  }

  /**
   * Sets the body size limit. Returns false if the request declares a longer
   * body (`Content-Length`): then the client has got a 413 and the handler
   * must not run. A body that grows past the limit as it arrives is refused
   * then: reading it throws a {@link BodyTooLargeError}, the request's scope is
   * cancelled with that error as its reason, and the client gets a 413.
   */
  limitBody(maxBodySize: number): boolean {
    this.#maxBodySize = maxBodySize;
    if (this.#declaredLength > maxBodySize) {
      respond(this.response, 413, new BodyTooLargeError(maxBodySize).message, true);
      return false;
    }
    if (this.#received > maxBodySize) this.#refuseBody();
    return true;
  }

  /**
   * The error a handler let out, as the server takes it: once the request's
   * scope is cancelled, an error that comes from the request's streams (its
   * body ended, the response was taken over, the client is gone) is that
   * cancellation, not a failure of the handler.
   */
  asCancellation(error: unknown): unknown {
    return asCancellation(error, this.request, this.response, this.cancelled);
  }

  /**
   * The request's task is ending: stop listening, and do not keep a connection
   * whose request body was left unread — draining it could take as long as the
   * client likes — open after the response.
   */
  close(): void {
    this.#connection.exchanges.delete(this);
    this.#closed = true; // the scope has exited too: its cancel callback is not called any more
    const { request, response } = this;
    if (request.complete || response.destroyed) return;
    // Looked at once the response is out, and after Node has parsed what already arrived (which it
    // may not have yet when this task runs): only a body still on its way keeps it incomplete.
    const closeIfUnread = (): void => {
      setImmediate(() => request.complete || request.socket?.destroy());
    };
    if (response.writableFinished) closeIfUnread();
    else response.once("finish", closeIfUnread);
  }

  /** The socket closed: if the response was not finished, the client has gone. */
  socketClosed(): void {
    if (this.response.writableFinished) return;
    this.#disconnected = true;
    cancelWithOrigin(this.scope, "disconnect", DISCONNECTED);
  }

  readonly #takeOver = (cancelled: Cancelled): void => {
    this.cancelled = cancelled;
    if (this.#takenOver || this.#closed) return;
    this.#takenOver = true;
    const { request, response, scope } = this;
    response.on("error", () => {}); // the handler's later writes (after the end) fail quietly
    endBody(request, cancelled);
    if (this.#disconnected || response.writableEnded) return;
    const reason = cancelled.reason;
    if (!scope.cancelCalled) respond(response, 503, "the server is shutting down", true);
    else if (reason instanceof BodyTooLargeError) respond(response, 413, reason.message, true);
    else if (reason instanceof TimeoutError) respond(response, 503, "the request timed out", !request.complete);
    else respond(response, 503, "the request was cancelled", !request.complete);
  };

  /** Counts the body's bytes as Node's parser hands them to the request stream, so that a body over the limit is refused as it arrives. */
  #countBody(): void {
    const request = this.request;
    const push = request.push;
    request.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk !== null && chunk !== undefined && !request.destroyed) {
        this.#received += (chunk as Buffer).length;
        if (this.#received > this.#maxBodySize) {
          this.#refuseBody();
          return false;
        }
      }
      return push.call(request, chunk, encoding);
    };
  }

  #refuseBody(): void {
    const error = new BodyTooLargeError(this.#maxBodySize);
    endBody(this.request, error);
    this.scope.cancel(error);
  }
}

/**
 * The error a request's code let out, as the server takes it: once the
 * request's scope is cancelled (`cancelled`, its cancellation, not null), an
 * error that comes from the request's streams (its body ended, the response
 * was taken over, the client is gone) is that cancellation, not a failure.
 * Any other error, or any error while the request goes on, as it is.
 */
export function asCancellation(error: unknown, request: IncomingMessage, response: ServerResponse, cancelled: Cancelled | null): unknown {
  if (cancelled === null || isCancelled(error)) return error;
  const fromStreams = (e: unknown): boolean =>
    e === request.errored || e === response.errored || e instanceof BodyTooLargeError || isCancelled(e) || isClosedStreamError(e);
  return inCauseChain(error, fromStreams) ? cancelled : error;
}

/**
 * Ends a request's body stream with `error`: whoever reads it (`for await`,
 * `'data'` and `'error'` listeners, `pipeline`, `fromReadable`) gets the error.
 * Unlike `request.destroy()`, it keeps the connection, over which the client
 * still gets an answer. (Like Node, it emits 'error' only if someone listens.)
 */
function endBody(request: IncomingMessage, error: Error): void {
  if (request.destroyed || request.readableEnded) return;
  // IncomingMessage's own _destroy destroys the socket when the body was not read to its end.
  request._destroy = (destroyError, callback) => {
    process.nextTick(() => callback(request.listenerCount("error") > 0 ? destroyError : null));
  };
  request.destroy(error);
}

/** Ends a response the handler could not finish: a plain-text error if nothing was sent yet, else a closed connection. */
export function respond(response: ServerResponse, status: number, message: string, closeConnection: boolean): void {
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
