/**
 * TCP: `serveTcp` (a task per connection) and `openTcpStream` (a client
 * connection), each connection a pair of channels.
 *
 * @module
 */

import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { TASK_STATUS_IGNORED, isCancelled, type ReceiveChannel, type TaskStatus } from "@quartet/core";
import { waitForEvent } from "./internal/events.js";
import { isPeerReset } from "./internal/cancellation.js";
import { checkListenOptions, printError, serve } from "./internal/serve.js";
import { requireFunction, requirePort, requireString } from "./internal/validate.js";
import { readableChannel } from "./readable.js";
import { finishForDisposal } from "./internal/stream-channels.js";
import { toWritable, type WritableChannel } from "./writable.js";

/**
 * A TCP connection as two channels: `incoming` receives the bytes the peer
 * sends, `outgoing` sends bytes to it. Both have backpressure: while nobody
 * receives, the socket stops reading (and the peer's sends wait), and `send()`
 * waits while the socket's write buffer is full.
 *
 * Closing `outgoing` sends end-of-file to the peer (a half-close: you can go on
 * receiving); closing `incoming` stops reading. `close()` closes the whole
 * connection at once; `await using` (or `[Symbol.asyncDispose]()`) first waits
 * until everything sent has been handed to the network, then closes it.
 *
 * @example
 * ```ts
 * import { runMain, serveTcp, type TcpStream } from "@quartet/node";
 *
 * async function greet(stream: TcpStream): Promise<void> {
 *   stream.socket.setNoDelay(true);
 *   await stream.outgoing.send("name? ");
 *   const name = (await stream.incoming.receive()).toString().trim(); // the first chunk the peer sends
 *   await stream.outgoing.send(`hello, ${name}\n`);
 * } // serveTcp closes the connection when the handler returns
 * await runMain(() => serveTcp(greet, { port: 7000 }));
 * ```
 */
export interface TcpStream extends Disposable, AsyncDisposable {
  /** The bytes from the peer; ends (`EndOfChannel`) when the peer has sent end-of-file. */
  readonly incoming: ReceiveChannel<Buffer>;
  /** The bytes to the peer; strings are sent as UTF-8. */
  readonly outgoing: WritableChannel<Uint8Array | string>;
  /** The underlying socket, for its addresses and options (`setNoDelay`, `setKeepAlive`). Do not read or write it directly. */
  readonly socket: Socket;
  /** Closes the connection at once (anything not yet sent is dropped). */
  close(): void;
}

class TcpStreamImpl implements TcpStream {
  readonly socket: Socket;
  readonly incoming: ReceiveChannel<Buffer>;
  readonly outgoing: WritableChannel<Uint8Array | string>;

  constructor(socket: Socket) {
    this.socket = socket;
    // Closing the receive side must not destroy the socket, which also sends: it only stops reading.
    this.incoming = readableChannel<Buffer>(socket, () => socket.pause());
    this.outgoing = toWritable<Uint8Array | string>(socket);
  }

  close(): void {
    this.socket.destroy();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      if (!this.socket.destroyed) await finishForDisposal(this.outgoing);
    } finally {
      this.close();
    }
  }
}

/**
 * Opens a TCP connection to `host`:`port` and returns it as a {@link TcpStream}
 * once it is connected. A checkpoint: cancelling the caller while it connects
 * abandons the attempt. A failure to connect (`ECONNREFUSED`, a DNS error) is
 * thrown as it is. The caller owns the stream: hold it with `await using`.
 *
 * @example
 * ```ts
 * import { openTcpStream } from "@quartet/node";
 *
 * await using stream = await openTcpStream("127.0.0.1", 7);
 * await stream.outgoing.send("ping\n");
 * const reply = await stream.incoming.receive();
 * console.log(reply.toString());
 * ```
 */
export async function openTcpStream(host: string, port: number): Promise<TcpStream> {
  requireString(host, "openTcpStream() host");
  requirePort(port, "openTcpStream() port");
  const socket = connect({ host, port, allowHalfOpen: true });
  const stream = new TcpStreamImpl(socket); // its channels listen for errors from now on
  try {
    const { name } = await waitForEvent(socket, ["connect", "error", "close"]);
    if (name !== "connect") throw socket.errored ?? new Error(`openTcpStream(): the connection to ${host}:${port} closed while connecting`);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return stream;
}

/**
 * Options of {@link serveTcp}.
 *
 * @example
 * ```ts
 * import { runMain, serveTcp } from "@quartet/node";
 *
 * await runMain(() =>
 *   serveTcp(async (stream) => {
 *     for await (const chunk of stream.incoming) await stream.outgoing.send(chunk); // echo
 *   }, {
 *     port: 7000,
 *     gracePeriod: 1000, // on Ctrl-C, open connections get a second to finish
 *     onError: (error, stream) => console.error(`connection from ${stream.socket.remoteAddress} failed:`, error),
 *   }),
 * );
 * ```
 */
export interface ServeTcpOptions {
  /** The port to listen on; 0 picks a free one (see the address given to `started()`). */
  port: number;
  /** The address to listen on. Default: every interface. */
  host?: string;
  /** When the server is cancelled, how many ms its connection handlers get to finish before they are cancelled. Default 0. */
  gracePeriod?: number;
  /**
   * Called with the error of a connection handler that failed (the server goes
   * on serving the other connections). Default: print it to stderr — except a
   * peer that reset the connection (`ECONNRESET`, `EPIPE`), which is normal on
   * a network and is not printed. If `onError` throws, that error stops the
   * server and is thrown by `serveTcp`.
   */
  onError?: (error: unknown, stream: TcpStream) => void;
}

/**
 * A TCP server shaped for `tg.start()`: it listens on `options.port` and, once
 * it does, calls `status.started()` with the bound address. Then it runs
 * `handler(stream)` as a new task for each connection, until it is cancelled.
 * When a handler returns, its connection is closed (after what it sent has been
 * handed to the network). A handler that fails is reported to `onError` and its
 * connection closed; the server goes on.
 *
 * Cancelling the server stops it accepting connections, gives the handlers in
 * flight `gracePeriod` ms to finish, cancels them (a `Cancelled` whose
 * `origin.kind` is `"shutdown"`), waits for them, and closes every connection.
 * In the task tree, each connection is a task named after the peer
 * (`connection from 127.0.0.1:50312`) in the task group "serveTcp connections". It never returns normally; errors of the server itself
 * (such as `EADDRINUSE`) are thrown.
 *
 * @example
 * ```ts
 * import type { AddressInfo } from "node:net";
 * import { taskGroup } from "@quartet/core";
 * import { openTcpStream, serveTcp } from "@quartet/node";
 *
 * await taskGroup(async (tg) => {
 *   const address = await tg.start<AddressInfo>((status) =>
 *     serveTcp(async (stream) => {
 *       for await (const chunk of stream.incoming) await stream.outgoing.send(chunk); // echo
 *     }, { port: 0, host: "127.0.0.1" }, status),
 *   );
 *   await using client = await openTcpStream("127.0.0.1", address.port);
 *   await client.outgoing.send("hello");
 *   console.log((await client.incoming.receive()).toString()); // "hello"
 *   tg.cancelScope.cancel();
 * });
 * ```
 */
export async function serveTcp(
  handler: (stream: TcpStream) => Promise<void>,
  options: ServeTcpOptions,
  status: TaskStatus<AddressInfo> = TASK_STATUS_IGNORED,
): Promise<never> {
  requireFunction(handler, "serveTcp() handler");
  checkListenOptions(options, "serveTcp()");
  const onError = options.onError;
  const server = createServer({ allowHalfOpen: true });
  const sockets = new Set<Socket>();
  return serve(
    "serveTcp",
    "connections",
    server,
    options,
    status,
    (spawn) => {
      server.on("connection", (socket: Socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        const stream = new TcpStreamImpl(socket);
        const name = `connection from ${socket.remoteAddress}:${socket.remotePort}`;
        const report =
          onError === undefined
            ? (error: unknown) => isPeerReset(error) || printError(`serveTcp: the ${name}`, error) // a reset peer is normal on a network
            : (error: unknown) => onError(error, stream);
        if (!spawn(() => handleConnection(handler, stream, report), name)) socket.destroy();
      });
    },
    () => {
      for (const socket of sockets) socket.destroy();
    },
  );
}

/** One connection's task: the handler, then a graceful close; a failure is reported, not thrown (the server goes on). */
async function handleConnection(handler: (stream: TcpStream) => Promise<void>, stream: TcpStreamImpl, report: (error: unknown) => void): Promise<void> {
  try {
    await handler(stream);
    await stream[Symbol.asyncDispose]();
  } catch (error) {
    stream.close();
    if (isCancelled(error)) throw error;
    report(error);
  }
}
