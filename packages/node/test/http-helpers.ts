// Helpers for the serveHttp tests: a server on a free port for the length of a test body, Node's client
// without a connection pool, and a raw client that writes bytes by hand (to stall in the middle of a body,
// send headers slowly, or see exactly what the server sent on a connection).
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { once } from "node:events";
import { taskGroup } from "@quartet/core";
import { serveHttp, type HttpHandler, type ServeHttpOptions } from "../src/index.js";

export const LOCAL = { port: 0, host: "127.0.0.1" };

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
  /** Whether the connection closed before the response was complete. */
  truncated: boolean;
}

/** A request with Node's own client, without a keep-alive pool; `onRequest` gets the request (to abort it). */
export function get(port: number, path: string, onRequest?: (request: ClientRequest) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body, truncated: false }));
      response.on("error", () => resolve({ status: response.statusCode!, headers: response.headers, body, truncated: true }));
    });
    request.on("error", reject);
    request.end();
    onRequest?.(request);
  });
}

/** Runs `body` with a server for `handler` on a free port; cancels the server when `body` returns. */
export async function withServer(handler: HttpHandler, options: Partial<ServeHttpOptions>, body: (port: number) => Promise<void>): Promise<void> {
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) => serveHttp(handler, { ...LOCAL, ...options }, status));
    await body(port);
    tg.cancelScope.cancel();
  });
}

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** A TCP connection to the server that the test writes HTTP to by hand. */
export class RawConnection implements Disposable {
  readonly socket: Socket;
  /** Everything the server has sent on this connection so far. */
  received = "";
  /** Where the next response starts in `received`. */
  #parsed = 0;
  readonly #watchers = new Set<() => void>();
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.received += chunk;
      for (const watch of this.#watchers) watch();
    });
    socket.on("error", () => {}); // a reset by the server shows as the close
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        resolve();
        for (const watch of this.#watchers) watch();
      }),
    );
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = connect({ host: "127.0.0.1", port });
    await once(socket, "connect");
    return new RawConnection(socket);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves once `test` holds for what was received (rejects if the connection closes first). */
  waitFor(test: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const watch = (): void => {
        if (test()) {
          this.#watchers.delete(watch);
          resolve();
        } else if (this.socket.destroyed) {
          this.#watchers.delete(watch);
          reject(new Error(`the connection closed; received: ${JSON.stringify(this.received)}`));
        }
      };
      this.#watchers.add(watch);
      watch();
    });
  }

  /** The next whole response the server sends (with a Content-Length, chunked, or ended by the close). */
  async response(): Promise<RawResponse> {
    let parsed: { response: RawResponse; end: number } | null = null;
    const attempt = (): boolean => (parsed = parseResponse(this.received, this.#parsed, this.socket.destroyed)) !== null;
    await this.waitFor(attempt);
    this.#parsed = parsed!.end;
    return parsed!.response;
  }

  [Symbol.dispose](): void {
    this.socket.destroy();
  }
}

function parseResponse(text: string, start: number, closed: boolean): { response: RawResponse; end: number } | null {
  const headEnd = text.indexOf("\r\n\r\n", start);
  if (headEnd < 0) return null;
  const [statusLine, ...lines] = text.slice(start, headEnd).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(statusLine!.split(" ")[1]);
  const bodyStart = headEnd + 4;
  if (headers["content-length"] !== undefined) {
    const end = bodyStart + Number(headers["content-length"]);
    return text.length >= end ? { response: { status, headers, body: text.slice(bodyStart, end) }, end } : null;
  }
  if (headers["transfer-encoding"] === "chunked") {
    let body = "";
    for (let at = bodyStart; ; ) {
      const lineEnd = text.indexOf("\r\n", at);
      if (lineEnd < 0) return null;
      const size = parseInt(text.slice(at, lineEnd), 16);
      if (size === 0) return text.length >= lineEnd + 4 ? { response: { status, headers, body }, end: lineEnd + 4 } : null;
      if (text.length < lineEnd + 2 + size + 2) return null;
      body += text.slice(lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
  }
  return closed ? { response: { status, headers, body: text.slice(bodyStart) }, end: text.length } : null;
}

/** The head of a request with a body of `length` bytes (the test sends the body itself). */
export function postHead(path: string, length: number | "chunked"): string {
  const framing = length === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`;
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${framing}\r\n\r\n`;
}

/** One chunk of a chunked body. */
export function chunk(data: string): string {
  return `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
}
