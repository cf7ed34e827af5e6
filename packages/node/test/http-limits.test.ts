// The limits serveHttp puts on clients: how long they may take to send a request's headers, how large a body
// may be, and that a body left unread is not drained for as long as the client likes.
import type { IncomingMessage } from "node:http";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { Cancelled, Event } from "@quartet/core";
import { BodyTooLargeError, serveHttp, type ServeHttpOptions } from "../src/index.js";
import { RawConnection, chunk, get, postHead, withServer } from "./http-helpers.js";

describe("serveHttp headersTimeout", () => {
  it("disconnects, with a 408, a client that trickles its headers or sends nothing, and serves the others meanwhile", async () => {
    await withServer(
      (_request, response) => void response.end("served"),
      { headersTimeout: 50 },
      async (port) => {
        using slow = await RawConnection.open(port);
        using silent = await RawConnection.open(port);
        const start = performance.now();
        slow.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        const trickle = setInterval(() => slow.socket.writable && slow.write("X-Slow: a\r\n"), 10);
        try {
          expect(await get(port, "/")).toMatchObject({ status: 200, body: "served" });
          await Promise.all([slow.closed, silent.closed]);
        } finally {
          clearInterval(trickle);
        }
        const elapsed = performance.now() - start;
        expect(elapsed).toBeGreaterThanOrEqual(49);
        expect(elapsed).toBeLessThan(1000);
        expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
        expect(silent.received).toMatch(/^HTTP\/1\.1 408 /);
      },
    );
  });

  it("does not limit the time a request takes once its headers have arrived", async () => {
    await withServer(
      async (request, response) => {
        let bytes = 0;
        for await (const chunk of request) bytes += (chunk as Buffer).length;
        response.end(`${bytes}`);
      },
      { headersTimeout: 20 },
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write(postHead("/", 10));
        // Three header timeouts (Node's own timer, on a real socket) before the body comes.
        await new Promise((resolve) => setTimeout(resolve, 60));
        connection.write("0123456789");
        expect(await connection.response()).toMatchObject({ status: 200, body: "10" });
      },
    );
  });
});

describe("serveHttp maxBodySize", () => {
  it("answers 413 to a request that declares a longer body, without running the handler (default: 1 MiB)", async () => {
    let ran = 0;
    await withServer(
      (_request, response) => {
        ran++;
        response.end("ran");
      },
      {},
      async (port) => {
        for (const [length, status] of [
          [1024 * 1024 + 1, 413],
          [1024 * 1024, 200],
        ] as const) {
          using connection = await RawConnection.open(port);
          connection.write(postHead("/", length) + "x".repeat(Math.min(length, 1000)));
          const reply = await connection.response();
          expect(reply.status).toBe(status);
          if (status === 413) {
            expect(reply.body).toBe("the request body is larger than 1048576 bytes (maxBodySize)\n");
            expect(reply.headers.connection).toBe("close");
            await connection.closed;
          }
        }
      },
    );
    expect(ran).toBe(1);
  });

  const READERS: Record<string, (request: IncomingMessage) => Promise<number>> = {
    "for await": async (request) => {
      let bytes = 0;
      for await (const chunk of request) bytes += (chunk as Buffer).length;
      return bytes;
    },
    pipeline: async (request) => {
      let bytes = 0;
      await pipeline(
        request,
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            bytes += chunk.length;
            callback();
          },
        }),
      );
      return bytes;
    },
  };

  it.each(Object.keys(READERS))(
    "refuses a chunked body that grows past the limit (%s): reading throws BodyTooLargeError, the scope is cancelled with it, the client gets a 413",
    async (how) => {
      const errors: unknown[] = [];
      let caught: unknown;
      let cancelledWith: unknown;
      const unwound = new Event();
      await withServer(
        async (request, response, { scope, signal }) => {
          try {
            response.end(`${await READERS[how]!(request)} bytes`);
          } catch (error) {
            caught = error;
            throw error;
          } finally {
            cancelledWith = scope.cancelCalled ? (signal.reason as Cancelled).reason : undefined;
            unwound.set();
          }
        },
        { maxBodySize: 100, onError: (error) => errors.push(error) },
        async (port) => {
          using connection = await RawConnection.open(port);
          connection.write(postHead("/", "chunked") + chunk("x".repeat(60)));
          await new Promise((resolve) => setTimeout(resolve, 20));
          connection.write(chunk("y".repeat(60))); // 120 bytes: over the limit
          const reply = await connection.response();
          expect(reply).toMatchObject({ status: 413, body: "the request body is larger than 100 bytes (maxBodySize)\n" });
          expect(reply.headers.connection).toBe("close");
          await unwound.wait();
        },
      );
      expect(caught).toBeInstanceOf(BodyTooLargeError);
      expect(caught).toMatchObject({ name: "BodyTooLargeError", limit: 100 });
      expect(cancelledWith).toBe(caught);
      expect(errors).toEqual([]);
    },
  );

  it("accepts a chunked body of exactly the limit", async () => {
    await withServer(
      async (request, response) => void response.end(`${await READERS["for await"]!(request)} bytes`),
      { maxBodySize: 100 },
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write(postHead("/", "chunked") + chunk("x".repeat(60)) + chunk("y".repeat(40)) + "0\r\n\r\n");
        expect(await connection.response()).toMatchObject({ status: 200, body: "100 bytes" });
      },
    );
  });

  it("as a function gives each request its own limit; Infinity is no limit", async () => {
    const options: Partial<ServeHttpOptions> = { maxBodySize: (request) => (request.url === "/upload" ? Infinity : 10) };
    await withServer(
      async (request, response) => void response.end(`${await READERS["for await"]!(request)} bytes`),
      options,
      async (port) => {
        for (const [path, status] of [
          ["/upload", 200],
          ["/other", 413],
        ] as const) {
          using connection = await RawConnection.open(port);
          connection.write(postHead(path, 2_000_000) + "z".repeat(2_000_000));
          expect((await connection.response()).status).toBe(status);
        }
      },
    );
  });

  it("a limit function that throws, or gives a bad limit, fails that request (500, onError) and the server goes on", async () => {
    const errors: unknown[] = [];
    await withServer(
      (_request, response) => void response.end("fine"),
      {
        maxBodySize: (request) => {
          if (request.url === "/throws") throw new Error("no limit for you");
          return request.url === "/negative" ? -1 : 10;
        },
        onError: (error) => errors.push(error),
      },
      async (port) => {
        expect((await get(port, "/throws")).status).toBe(500);
        expect((await get(port, "/negative")).status).toBe(500);
        expect(await get(port, "/")).toMatchObject({ status: 200, body: "fine" });
      },
    );
    expect(errors).toEqual([
      new Error("no limit for you"),
      new RangeError("serveHttp() maxBodySize(request)'s result must be a non-negative integer number of bytes (Infinity for no limit); got -1"),
    ]);
  });
});

describe("serveHttp and bodies left unread", () => {
  it("closes the connection after the response when the handler left a body that was still arriving", async () => {
    await withServer(
      (_request, response) => void response.end("not reading that"),
      {},
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write(postHead("/", 500_000) + "x".repeat(1000)); // the rest never comes
        const reply = await connection.response();
        expect(reply).toMatchObject({ status: 200, body: "not reading that" });
        await connection.closed; // not kept open for the rest of the body
      },
    );
  });

  it("keeps the connection when the unread body had arrived whole", async () => {
    await withServer(
      (request, response) => void response.end(`not reading ${request.url}`),
      {},
      async (port) => {
        using connection = await RawConnection.open(port);
        connection.write(postHead("/first", 5) + "hello");
        expect(await connection.response()).toMatchObject({ status: 200, body: "not reading /first" });
        connection.write(postHead("/second", 5) + "hello");
        expect(await connection.response()).toMatchObject({ status: 200, body: "not reading /second" });
      },
    );
  });
});

describe("serveHttp limit options", () => {
  it("rejects bad limits with TypeError and RangeError naming them", async () => {
    await expect(serveHttp(() => {}, { port: 0, headersTimeout: 0 })).rejects.toThrow(
      new RangeError("serveHttp() headersTimeout must be a positive number of milliseconds (Infinity for no limit); got 0"),
    );
    await expect(serveHttp(() => {}, { port: 0, headersTimeout: "1s" as unknown as number })).rejects.toThrow(TypeError);
    await expect(serveHttp(() => {}, { port: 0, maxBodySize: -1 })).rejects.toThrow(
      new RangeError("serveHttp() maxBodySize must be a non-negative integer number of bytes (Infinity for no limit); got -1"),
    );
    await expect(serveHttp(() => {}, { port: 0, maxBodySize: 1.5 })).rejects.toThrow(RangeError);
    await expect(serveHttp(() => {}, { port: 0, maxBodySize: "1mb" as unknown as number })).rejects.toThrow(
      new TypeError('serveHttp() maxBodySize must be a number of bytes; got "1mb"'),
    );
  });
});
