import { request as httpRequest, type ClientRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Cancelled, CancelScope, Event, abortable, currentSignal, run, sleep, sleepForever, taskGroup } from "@quartet/core";
import { formatTaskTree } from "@quartet/core/lowlevel";
import { MockClock, waitAllTasksBlocked } from "@quartet/testing";
import { fromReadable, serveHttp, toWritable, type ServeHttpOptions } from "../src/index.js";
import { LOCAL, get, withServer } from "./http-helpers.js";

describe("serveHttp", () => {
  it("reports the bound address to started() (port 0 picks one) and runs the handler for each request", async () => {
    await taskGroup(async (tg) => {
      const address = await tg.start<AddressInfo>((status) =>
        serveHttp((request, response) => void response.end(`you asked for ${request.url}`), LOCAL, status),
      );
      expect(address).toMatchObject({ address: "127.0.0.1", family: "IPv4" });
      expect(address.port).toBeGreaterThan(0);
      const [a, b] = await Promise.all([get(address.port, "/a"), get(address.port, "/b")]);
      expect([a.body, b.body]).toEqual(["you asked for /a", "you asked for /b"]);
      tg.cancelScope.cancel();
    });
  });

  it("runs the handler in the request's scope: its signal is currentSignal(), and returning ends the response", async () => {
    let same = false;
    await withServer(
      (_request, response, { signal }) => {
        same = signal === currentSignal();
        response.write("partial, never ended by the handler");
      },
      {},
      async (port) => {
        const reply = await get(port, "/");
        expect(reply).toMatchObject({ status: 200, body: "partial, never ended by the handler", truncated: false });
      },
    );
    expect(same).toBe(true);
  });

  it("lets a handler read the request body and stream the response through channels", async () => {
    await withServer(
      async (request, response) => {
        let bytes = 0;
        using body = fromReadable<Buffer>(request);
        for await (const chunk of body) bytes += chunk.length;
        await using out = toWritable<string>(response); // leaving the block waits until the response is sent
        for (let i = 1; i <= 3; i++) await out.send(`part ${i} of a reply to ${bytes} bytes\n`);
      },
      {},
      async (port) => {
        const reply = await new Promise<string>((resolve, reject) => {
          const outgoing = httpRequest({ host: "127.0.0.1", port, method: "POST", agent: false }, (response) => {
            let text = "";
            response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
            response.on("end", () => resolve(text));
          });
          outgoing.on("error", reject);
          outgoing.end(Buffer.alloc(100_000));
        });
        expect(reply).toBe("part 1 of a reply to 100000 bytes\npart 2 of a reply to 100000 bytes\npart 3 of a reply to 100000 bytes\n");
      },
    );
  });

  it("cancels the request's scope when the client disconnects, and the handler's cleanup runs", async () => {
    const started = new Event();
    const cleanedUp = new Event();
    let reason: unknown;
    let origin: unknown;
    let signalAborted = false;
    await withServer(
      async (_request, _response, { signal }) => {
        started.set();
        try {
          await sleepForever();
        } catch (error) {
          reason = (error as Cancelled).reason;
          origin = (error as Cancelled).origin;
          throw error;
        } finally {
          signalAborted = signal.aborted;
          cleanedUp.set();
        }
      },
      {},
      async (port) => {
        let clientRequest: ClientRequest | undefined;
        const reply = get(port, "/slow", (r) => (clientRequest = r)).catch((error: unknown) => error);
        await started.wait();
        clientRequest!.destroy(); // the client goes away
        await cleanedUp.wait();
        expect(await reply).toMatchObject({ code: "ECONNRESET" });
      },
    );
    expect(reason).toBe("the client disconnected before the response was finished");
    expect(origin).toEqual({ kind: "disconnect", scope: "GET /slow" }); // the request's scope is named after the request
    expect(signalAborted).toBe(true);
  });

  it("names its tasks, task groups and request scopes, so that the task tree says which request waits in what", async () => {
    const started = new Event();
    let tree = "";
    let reply: Promise<unknown> = Promise.resolve();
    await withServer(
      async () => {
        started.set();
        await sleepForever();
      },
      { requestTimeout: 60_000 },
      async (port) => {
        reply = get(port, "/report?year=2024");
        await started.wait();
        await waitAllTasksBlocked();
        tree = formatTaskTree();
      },
    );
    expect(await reply).toMatchObject({ status: 503 }); // the server shut down
    const lines = tree.split("\n").map((line) => line.replace(/^[\s│├└─]+/, ""));
    const from = lines.indexOf('task group "serveHttp"');
    expect(lines.slice(from, from + 4)).toEqual([
      'task group "serveHttp"',
      'task "serveHttp handlers" — blocked: wait on Event "serveHttp shutdown"',
      'cancel scope "serveHttp requests" [shielded]',
      'task group "serveHttp requests"',
    ]);
    expect(lines[from + 4]).toMatch(/^task "GET \/report\?year=2024" — blocked: /);
    expect(lines[from + 5]).toMatch(/^cancel scope "GET \/report\?year=2024" \[deadline in \d+\.\d s\]$/);
  });

  it("aborts foreign calls given the request's signal when the client disconnects", async () => {
    const started = new Event();
    const outcome = new Event();
    let caught = "";
    await withServer(
      async (_request, _response, { signal, scope }) => {
        started.set();
        try {
          await delay(60_000, undefined, { signal }); // a foreign timer, stopped by the signal
        } finally {
          // The AbortError counts as the scope's cancellation: the scope catches it.
          caught = `cancelCalled=${scope.cancelCalled}`;
          outcome.set();
        }
      },
      {},
      async (port) => {
        let clientRequest: ClientRequest | undefined;
        const reply = get(port, "/", (r) => (clientRequest = r)).catch(() => undefined);
        await started.wait();
        clientRequest!.destroy();
        await outcome.wait();
        await reply;
      },
    );
    expect(caught).toBe("cancelCalled=true");
  });

  it("answers 503 when requestTimeout passes before any header was sent, after the handler's cleanup (virtual time)", async () => {
    await run(
      async () => {
        const log: string[] = [];
        await withServer(
          async () => {
            try {
              await sleep(3_600_000);
            } catch (error) {
              log.push(`cancelled by ${((error as Cancelled).reason as Error).name}`);
              throw error;
            }
          },
          { requestTimeout: 30_000 },
          async (port) => {
            const reply = await abortable(get(port, "/slow")); // abortable(): this task counts as blocked, so time can jump
            expect(reply).toMatchObject({ status: 503, body: "the request timed out\n" });
          },
        );
        expect(log).toEqual(["cancelled by TimeoutError"]);
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
  });

  it("closes the connection when requestTimeout passes after the headers went out, so the body does not look complete", async () => {
    await run(
      async () => {
        await withServer(
          async (_request, response) => {
            response.writeHead(200, { "content-type": "text/plain" });
            response.write("the beginning");
            await sleep(3_600_000);
          },
          { requestTimeout: 1000 },
          async (port) => {
            const reply = await abortable(get(port, "/"));
            expect(reply).toMatchObject({ status: 200, body: "the beginning", truncated: true });
          },
        );
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
  });

  it("answers 500 for a handler that throws, reports the error to onError, and goes on serving", async () => {
    const errors: Array<[unknown, string | undefined]> = [];
    await withServer(
      (request, response) => {
        if (request.url === "/boom") {
          response.setHeader("content-type", "application/json");
          throw new Error("handler failed");
        }
        response.end("fine");
      },
      { onError: (error, request) => errors.push([error, request.url]) },
      async (port) => {
        const failed = await get(port, "/boom");
        expect(failed).toMatchObject({ status: 500, body: "internal server error\n" });
        expect(failed.headers["content-type"]).toBe("text/plain; charset=utf-8");
        expect((await get(port, "/ok")).body).toBe("fine");
      },
    );
    expect(errors).toEqual([[new Error("handler failed"), "/boom"]]);
  });

  it("when onError throws, stops the server and throws that error from serveHttp", async () => {
    const error = await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveHttp(
          () => {
            throw new Error("handler failed");
          },
          {
            ...LOCAL,
            onError: (e) => {
              throw new Error("fatal", { cause: e });
            },
          },
          status,
        ),
      );
      await get(port, "/");
      await sleepForever(); // cancelled by the server's failure
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "fatal", cause: new Error("handler failed") });
  });

  it("when cancelled, lets requests in flight finish within gracePeriod, then cancels the rest with a 503", async () => {
    const bothStarted = new Event();
    let running = 0;
    const log: string[] = [];
    const finishQuick = new Event();
    await taskGroup(async (tg) => {
      const server = new CancelScope();
      const { port } = await tg.start<AddressInfo>((status) =>
        server.run(() =>
          serveHttp(
            async (request, response) => {
              if (++running === 2) bothStarted.set();
              try {
                if (request.url === "/quick") await finishQuick.wait();
                else await sleepForever();
                response.end("done");
                log.push(`${request.url} finished`);
              } catch (error) {
                log.push(`${request.url} cancelled: ${(error as Cancelled).reason}`);
                throw error;
              }
            },
            { ...LOCAL, gracePeriod: 100 },
            status,
          ),
        ),
      );
      const quick = get(port, "/quick");
      const slow = get(port, "/slow");
      await bothStarted.wait();
      server.cancel();
      const cancelledAt = performance.now();
      await waitAllTasksBlocked();
      finishQuick.set();
      expect(await quick).toMatchObject({ status: 200, body: "done" });
      expect(await slow).toMatchObject({ status: 503, body: "the server is shutting down\n" });
      expect(performance.now() - cancelledAt).toBeGreaterThanOrEqual(99);
      await expect(get(port, "/late")).rejects.toMatchObject({ code: "ECONNREFUSED" });
    });
    expect(log).toEqual(["/quick finished", "/slow cancelled: serveHttp: the server is shutting down"]);
  });

  it("throws the listen error (EADDRINUSE) from start()", async () => {
    await withServer(() => {}, {}, async (port) => {
      await taskGroup(async (tg) => {
        await expect(tg.start<AddressInfo>((status) => serveHttp(() => {}, { port, host: "127.0.0.1" }, status))).rejects.toMatchObject({
          code: "EADDRINUSE",
        });
      });
    });
  });

  it("rejects bad options with TypeError and RangeError naming them", async () => {
    await expect(serveHttp(() => {}, { port: 70_000 })).rejects.toThrow(new RangeError("serveHttp() port must be an integer from 0 to 65535; got 70000"));
    await expect(serveHttp(() => {}, { port: 0, requestTimeout: -5 })).rejects.toThrow(
      new RangeError("serveHttp() requestTimeout must be a non-negative number of milliseconds; got -5"),
    );
    await expect(serveHttp(() => {}, { port: 0, onError: "log" as unknown as () => void })).rejects.toThrow(TypeError);
    await expect(serveHttp(() => {}, null as unknown as ServeHttpOptions)).rejects.toThrow(new TypeError("serveHttp() options must be an object; got null"));
  });
});

