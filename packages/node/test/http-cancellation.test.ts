// What happens when a request's scope is cancelled while its handler runs — the deadline, the client going
// away, the server shutting down: the server answers for the request at once, the body stream ends with the
// cancellation however it is read, and errors the cancellation caused are not handler failures.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Cancelled, Event, TimeoutError, taskGroup } from "@quartet/core";
import { fromReadable, serveHttp } from "../src/index.js";
import { LOCAL, RawConnection, get, postHead, withServer } from "./http-helpers.js";

const DISCONNECTED = "the client disconnected before the response was finished";

/** A promise the test settles: a foreign wait that ignores the request's signal. */
function foreignWait(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

/** The ways a handler reads a request body; each resolves at the end of the body, or rejects with the stream's error. */
const READERS: Record<string, (request: IncomingMessage, onChunk: () => void) => Promise<void>> = {
  "for await": async (request, onChunk) => {
    for await (const _ of request) onChunk();
  },
  "'data' and 'error' listeners": (request, onChunk) =>
    new Promise((resolve, reject) => {
      request.on("data", onChunk);
      request.on("end", resolve);
      request.on("error", reject);
    }),
  pipeline: (request, onChunk) =>
    pipeline(
      request,
      new Writable({
        write(_chunk, _encoding, callback) {
          onChunk();
          callback();
        },
      }),
    ),
  fromReadable: async (request, onChunk) => {
    using body = fromReadable<Buffer>(request);
    for await (const _ of body) onChunk();
  },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("serveHttp at a request's deadline", () => {
  // A handler that ignores its signal, then writes: none of it may reach the client or crash the server.
  const LATE_WRITES: Record<string, (response: ServerResponse) => void> = {
    "end()": (response) => void response.end("late 200"),
    "write()": (response) => void response.write("late"),
    "writeHead() and end()": (response) => {
      response.writeHead(200, { "content-type": "text/plain" }); // throws ERR_HTTP_HEADERS_SENT
      response.end("late 200");
    },
    "setHeader()": (response) => void response.setHeader("x-late", "yes"), // throws ERR_HTTP_HEADERS_SENT
  };

  it.each(Object.entries(LATE_WRITES))(
    "answers 503 at the deadline, not when a handler that ignores its signal returns; what it writes later (%s) is dropped quietly",
    async (_name, lateWrite) => {
      const errors: unknown[] = [];
      const wait = foreignWait();
      const unwound = new Event();
      let finallyRan = 0;
      await withServer(
        async (request, response) => {
          if (request.url === "/next") return void response.end("next");
          try {
            await wait.promise; // a foreign wait, without the signal
            lateWrite(response);
          } finally {
            finallyRan++;
            unwound.set();
          }
        },
        { requestTimeout: 40, onError: (error) => errors.push(error) },
        async (port) => {
          using connection = await RawConnection.open(port);
          const start = performance.now();
          connection.write("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
          expect(await connection.response()).toMatchObject({ status: 503, body: "the request timed out\n" });
          expect(performance.now() - start).toBeGreaterThanOrEqual(39);
          expect(finallyRan).toBe(0); // the handler is still waiting
          wait.release();
          await unwound.wait();
          await new Promise((resolve) => setImmediate(resolve)); // a write's error comes a tick later
          // The connection was kept (the request had no body): the next response follows the 503 directly.
          connection.write("GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
          expect(await connection.response()).toMatchObject({ status: 200, body: "next" });
          expect(connection.received).not.toContain("late");
        },
      );
      expect(finallyRan).toBe(1);
      expect(errors).toEqual([]);
    },
  );

  it("the server's shutdown still waits for a cancelled handler that is unwinding", async () => {
    const log: string[] = [];
    const wait = foreignWait();
    const answered = new Event();
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveHttp(
          async () => {
            try {
              await wait.promise;
            } finally {
              log.push("handler unwound");
            }
          },
          { ...LOCAL, requestTimeout: 20 },
          status,
        ),
      );
      const reply = get(port, "/").then((reply) => {
        answered.set();
        return reply;
      });
      await answered.wait();
      expect(await reply).toMatchObject({ status: 503 });
      setTimeout(wait.release, 30); // the handler lets go only after the server was cancelled
      tg.cancelScope.cancel();
    });
    log.push("server stopped");
    expect(log).toEqual(["handler unwound", "server stopped"]);
  });

  it.each(Object.keys(READERS))(
    "ends the body stream with the Cancelled however the handler reads it (%s), and answers 503 at the deadline",
    async (how) => {
      const errors: unknown[] = [];
      let caught: unknown;
      let chunks = 0;
      await withServer(
        async (request) => {
          try {
            await READERS[how]!(request, () => chunks++);
          } catch (error) {
            caught = error;
            throw error;
          }
        },
        { requestTimeout: 50, onError: (error) => errors.push(error) },
        async (port) => {
          using connection = await RawConnection.open(port);
          const start = performance.now();
          connection.write(postHead("/upload", 1_000_000) + "x".repeat(1000)); // then the client stalls
          const reply = await connection.response();
          expect(reply).toMatchObject({ status: 503, body: "the request timed out\n" });
          expect(reply.headers.connection).toBe("close"); // the rest of the body is not read
          expect(performance.now() - start).toBeGreaterThanOrEqual(49);
          await connection.closed;
        },
      );
      expect(chunks).toBeGreaterThan(0);
      expect(caught).toBeInstanceOf(Cancelled);
      expect((caught as Cancelled).reason).toBeInstanceOf(TimeoutError);
      expect(errors).toEqual([]);
    },
  );

  it("a handler that moved its deadline reads its body past requestTimeout", async () => {
    let bytes = 0;
    await withServer(
      async (request, response, { scope }) => {
        scope.deadline += 10_000;
        for await (const chunk of request) bytes += (chunk as Buffer).length;
        response.end(`${bytes}`);
      },
      { requestTimeout: 20 },
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write(postHead("/upload", 20));
        await new Promise((resolve) => setTimeout(resolve, 60));
        connection.write("y".repeat(20));
        expect(await connection.response()).toMatchObject({ status: 200, body: "20" });
      },
    );
  });
});

describe("serveHttp when the client goes away", () => {
  it.each(Object.keys(READERS))(
    "a client that disconnects in the middle of the body is not a handler failure: the body ends with the Cancelled (%s)",
    async (how) => {
      const errors: unknown[] = [];
      const reading = new Event();
      const unwound = new Event();
      let caught: unknown;
      await withServer(
        async (request) => {
          try {
            await READERS[how]!(request, () => reading.set());
          } catch (error) {
            caught = error;
            throw error;
          } finally {
            unwound.set();
          }
        },
        { onError: (error) => errors.push(error) },
        async (port) => {
          using connection = await RawConnection.open(port);
          connection.write(postHead("/upload", 1_000_000) + "x".repeat(1000));
          await reading.wait();
          connection.socket.destroy();
          await unwound.wait();
        },
      );
      expect(caught).toBeInstanceOf(Cancelled);
      expect((caught as Cancelled).reason).toBe(DISCONNECTED);
      expect((caught as Cancelled).origin).toEqual({ kind: "disconnect", scope: "POST /upload" });
      expect(errors).toEqual([]);
    },
  );

  it("on a keep-alive connection, a request after others is cancelled when the client goes away, and the connection's close listeners do not grow", async () => {
    const closeListeners: number[] = [];
    const waiting = new Event();
    const unwound = new Event();
    const caught: unknown[] = [];
    await withServer(
      async (request, response) => {
        closeListeners.push(request.socket.listenerCount("close"));
        if (request.url === "/wait") {
          try {
            waiting.set();
            await new Event().wait();
          } catch (error) {
            caught.push(error);
            unwound.set();
            throw error;
          }
        }
        response.end("ok");
      },
      {},
      async (port) => {
        using connection = await RawConnection.open(port);
        for (let i = 0; i < 3; i++) {
          connection.write("GET /quick HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
          expect((await connection.response()).body).toBe("ok");
        }
        connection.write("GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        await waiting.wait();
        connection.socket.destroy();
        await unwound.wait();
      },
    );
    expect(new Set(closeListeners).size).toBe(1);
    expect((caught[0] as Cancelled).origin).toEqual({ kind: "disconnect", scope: "GET /wait" });
  });

  it("when a client that pipelines goes away, every request in progress on its connection is cancelled", async () => {
    const caught: unknown[] = [];
    const arrived = new Event();
    const bothUnwound = new Event();
    await withServer(
      async (request) => {
        if (request.url === "/second") arrived.set();
        try {
          await new Event().wait();
        } catch (error) {
          caught.push(error);
          if (caught.length === 2) bothUnwound.set();
          throw error;
        }
      },
      {},
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write("GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        await arrived.wait();
        connection.socket.destroy();
        await bothUnwound.wait();
      },
    );
    const origins = caught.map((error) => (error as Cancelled).origin);
    expect(origins).toHaveLength(2);
    expect(origins).toEqual(
      expect.arrayContaining([
        { kind: "disconnect", scope: "GET /first" },
        { kind: "disconnect", scope: "GET /second" },
      ]),
    );
  });

  it("by default prints nothing for a disconnect, even when the handler wraps the body's error in one of its own", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    const reading = new Event();
    const unwound = new Event();
    await withServer(
      async (request) => {
        try {
          for await (const _ of request) reading.set();
        } catch (error) {
          throw new Error("the upload failed", { cause: error }); // still caused by the disconnect
        } finally {
          unwound.set();
        }
      },
      {},
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write(postHead("/upload", 1_000_000) + "x".repeat(1000));
        await reading.wait();
        connection.socket.resetAndDestroy(); // a reset rather than an end: the same for the handler
        await unwound.wait();
      },
    );
    expect(printed).not.toHaveBeenCalled();
  });

  it("writes to a response whose client went away neither crash nor count as failures", async () => {
    const errors: unknown[] = [];
    const started = new Event();
    const wait = foreignWait();
    const unwound = new Event();
    await withServer(
      async (_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" });
        response.write("first part\n");
        started.set();
        try {
          await wait.promise;
          response.write("second part\n");
          response.end("the end\n");
        } finally {
          unwound.set();
        }
      },
      { onError: (error) => errors.push(error) },
      async (port) => {
        const reply = get(port, "/", (request) => void started.wait().then(() => request.destroy())).catch((error: unknown) => error);
        await started.wait();
        await reply;
        await new Promise((resolve) => setTimeout(resolve, 10)); // the server sees the close
        wait.release();
        await unwound.wait();
        await new Promise((resolve) => setImmediate(resolve));
      },
    );
    expect(errors).toEqual([]);
  });

  it("a handler that fails for a reason of its own after being cancelled is still reported", async () => {
    const errors: unknown[] = [];
    const reading = new Event();
    const unwound = new Event();
    await withServer(
      async (request) => {
        try {
          for await (const _ of request) reading.set();
        } finally {
          unwound.set();
          // eslint-disable-next-line no-unsafe-finally
          throw new TypeError("a bug in the cleanup");
        }
      },
      { onError: (error) => errors.push(error) },
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write(postHead("/upload", 100) + "x");
        await reading.wait();
        connection.socket.destroy();
        await unwound.wait();
      },
    );
    expect(errors).toEqual([new TypeError("a bug in the cleanup")]);
  });
});

describe("serveHttp shutting down", () => {
  it("ends the bodies being read with the Cancelled and answers 503 with Connection: close at once", async () => {
    const reading = new Event();
    let caught: unknown;
    const errors: unknown[] = [];
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveHttp(
          async (request) => {
            try {
              for await (const _ of request) reading.set();
            } catch (error) {
              caught = error;
              throw error;
            }
          },
          { ...LOCAL, onError: (error) => errors.push(error) },
          status,
        ),
      );
      using connection = await RawConnection.open(port);
      connection.write(postHead("/upload", 1_000_000) + "x".repeat(1000));
      await reading.wait();
      tg.cancelScope.cancel();
      const reply = await connection.response();
      expect(reply).toMatchObject({ status: 503, body: "the server is shutting down\n" });
      expect(reply.headers.connection).toBe("close");
    });
    expect(caught).toMatchObject({ name: "Cancelled", reason: "serveHttp: the server is shutting down" });
    expect((caught as Cancelled).origin).toEqual({ kind: "shutdown", scope: "serveHttp requests" });
    expect((caught as Cancelled).message).toBe('cancelled (shutdown): "serveHttp requests" was cancelled: serveHttp: the server is shutting down');
    expect(errors).toEqual([]);
  });
});

describe("serveHttp when the handler cancels its own request", () => {
  it("answers 503 at once, and the handler's later writes are dropped", async () => {
    const wait = foreignWait();
    const unwound = new Event();
    await withServer(
      async (_request, response, { scope }) => {
        scope.cancel("not today");
        try {
          await wait.promise;
          response.end("never sent");
        } finally {
          unwound.set();
        }
      },
      {},
      async (port) => {
        expect(await get(port, "/")).toMatchObject({ status: 503, body: "the request was cancelled\n" });
        wait.release();
        await unwound.wait();
      },
    );
  });
});
