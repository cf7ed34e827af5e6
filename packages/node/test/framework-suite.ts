// The behaviour every framework adapter (@quartet/express, @quartet/fastify, @quartet/hono) must have, as
// one suite that each adapter's tests run against the real framework, on real sockets: a request's scope is
// cancelled when its client goes away, at its deadline and at the server's shutdown; handlers run as tasks
// in it; their errors go to the framework's error handling, and the request's cancellation does not.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { Event, currentEffectiveDeadline, currentSignal, isCancelled, sleep, taskGroup, type Cancelled, type TaskStatus } from "@quartet/core";
import { get, LOCAL } from "./http-helpers.js";

/** A route's work: what it answers with, as text; it runs inside the handler (a task of the request). */
export type Work = () => Promise<string>;

/** How one adapter's tests serve routes: an app of the framework with these routes and an error handler. */
export interface Adapter {
  /** The serving function's name, as errors and the task tree say it ("serveExpress"). */
  readonly name: string;
  /**
   * Serves an app whose GET `path` routes answer 200 with what their work returns, and whose error
   * handler — the framework's own (error middleware, setErrorHandler, onError) — calls `failed(error)` and
   * answers 500 with `failed: <message>`.
   */
  serve(routes: Record<string, Work>, failed: (error: unknown) => void, options: Record<string, unknown>, status: TaskStatus<AddressInfo>): Promise<never>;
  /** Serves a value that is not an app of the framework, to check the error. */
  serveNotAnApp(value: unknown, status: TaskStatus<AddressInfo>): Promise<never>;
}

/** A real upstream server that never answers, and records each request that its client aborted. */
export async function slowUpstream(): Promise<{ url: string; aborted: Event; requests: Event } & AsyncDisposable> {
  const aborted = new Event();
  const requests = new Event();
  const server = createServer((_request: IncomingMessage, response: ServerResponse) => {
    requests.set();
    response.on("close", () => {
      if (!response.writableFinished) aborted.set();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    aborted,
    requests,
    [Symbol.asyncDispose]: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** Why a `Cancelled` was cancelled (its origin's kind), or "not cancelled: …" for anything else. */
function kindOf(error: unknown): string {
  return isCancelled(error) ? (error as Cancelled).origin.kind : `not cancelled: ${String(error)}`;
}

/** Runs `work`, recording the kind of the cancellation that ends it (then rethrown). */
function recording(kinds: string[], work: Work): Work {
  return async () => {
    try {
      return await work();
    } catch (error) {
      kinds.push(kindOf(error));
      throw error;
    }
  };
}

export function adapterSuite(adapter: Adapter): void {
  const { name } = adapter;
  let errorLog: MockInstance[] = [];
  beforeEach(() => {
    errorLog = [vi.spyOn(console, "error"), vi.spyOn(console, "warn"), vi.spyOn(process.stderr, "write")];
  });
  afterEach(() => vi.restoreAllMocks());
  const logged = (): unknown[] => errorLog.flatMap((spy) => spy.mock.calls);

  /** Runs `body` with the routes served on a free port; cancels the server when it returns. */
  async function withApp(
    routes: Record<string, Work>,
    options: Record<string, unknown>,
    body: (port: number, failures: unknown[]) => Promise<void>,
  ): Promise<void> {
    const failures: unknown[] = [];
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) => adapter.serve(routes, (error) => failures.push(error), { ...LOCAL, ...options }, status));
      await body(port, failures);
      tg.cancelScope.cancel();
    });
  }

  describe(`${name}: every request a task in its own cancel scope`, () => {
    it(`${name} listens before started() and answers a handler's response; the handler runs in the request's scope`, async () => {
      await withApp({ "/hello": async () => `deadline in scope: ${currentEffectiveDeadline() !== Infinity}, aborted: ${currentSignal().aborted}` }, { requestTimeout: 60_000 }, async (port) => {
        expect(await get(port, "/hello")).toMatchObject({ status: 200, body: "deadline in scope: true, aborted: false" });
      });
    });

    it("a client that disconnects mid-request cancels its handler (origin disconnect), and the upstream fetch given currentSignal() is aborted", async () => {
      await using upstream = await slowUpstream();
      const kinds: string[] = [];
      const routes = { "/proxy": recording(kinds, async () => (await fetch(upstream.url, { signal: currentSignal() })).text()) };
      await withApp(routes, {}, async (port) => {
        const reply = get(port, "/proxy", (request) => void upstream.requests.wait().then(() => request.destroy()));
        await expect(reply).rejects.toMatchObject({ code: "ECONNRESET" });
        await upstream.aborted.wait(); // the upstream server saw the abort
        while (kinds.length === 0) await sleep(1);
      });
      expect(kinds).toEqual(["disconnect"]);
      expect(logged()).toEqual([]);
    });

    it("at the request's deadline the client gets a 503 at once, even from a handler that ignores its signal, and a waiting handler is cancelled (origin deadline)", async () => {
      const kinds: string[] = [];
      const routes = {
        "/sleep": recording(kinds, async () => {
          await sleep(60_000);
          return "too late";
        }),
        "/ignores": async () => {
          await new Promise((resolve) => setTimeout(resolve, 600)); // a foreign wait, without the signal
          return "too late";
        },
      };
      await withApp(routes, { requestTimeout: 100 }, async (port, failures) => {
        const started = performance.now();
        expect(await get(port, "/sleep")).toMatchObject({ status: 503, body: "the request timed out\n" });
        const ignored = await get(port, "/ignores");
        const elapsed = performance.now() - started;
        expect(ignored).toMatchObject({ status: 503, body: "the request timed out\n" });
        expect(elapsed).toBeLessThan(550); // both at their deadlines, not when the ignoring handler finished
        expect(failures).toEqual([]);
      });
      expect(kinds).toEqual(["deadline"]);
      expect(logged()).toEqual([]); // neither the Cancelled nor the late answer is an error
    });

    it("shutting down gives requests in flight the grace period, then cancels them (origin shutdown) and their clients get a 503", async () => {
      const kinds: string[] = [];
      const inFlight = new Event();
      const shortStarted = new Event();
      const routes = {
        "/long": recording(kinds, async () => {
          inFlight.set();
          await sleep(60_000);
          return "too late";
        }),
        "/short": async () => {
          shortStarted.set();
          await sleep(50);
          return "finished in the grace period";
        },
      };
      let long: Promise<unknown> | undefined;
      let short: Promise<unknown> | undefined;
      const started = performance.now();
      await withApp(routes, { gracePeriod: 200 }, async (port) => {
        long = get(port, "/long");
        await inFlight.wait();
        short = get(port, "/short");
        await shortStarted.wait();
      });
      const elapsed = performance.now() - started;
      expect(await long).toMatchObject({ status: 503, body: "the server is shutting down\n" });
      expect(await short).toMatchObject({ status: 200, body: "finished in the grace period" });
      expect(kinds).toEqual(["shutdown"]);
      expect(elapsed).toBeGreaterThanOrEqual(200);
      expect(logged()).toEqual([]);
    });

    it("a handler's error goes to the framework's error handler, and the server goes on", async () => {
      const failure = new Error("not implemented");
      const routes = {
        "/broken": async () => {
          await sleep(1);
          throw failure;
        },
        "/ok": async () => "ok",
      };
      await withApp(routes, {}, async (port, failures) => {
        expect(await get(port, "/broken")).toMatchObject({ status: 500, body: "failed: not implemented" });
        expect(await get(port, "/ok")).toMatchObject({ status: 200, body: "ok" });
        expect(failures).toEqual([failure]);
      });
    });

    it("a task group in a handler is cancelled with the request", async () => {
      const kinds: string[] = [];
      const both = new Event();
      const routes = {
        "/both": async () => {
          await taskGroup(async (tg) => {
            tg.spawn(recording(kinds, () => sleep(60_000).then(() => "")));
            tg.spawn(recording(kinds, () => sleep(60_000).then(() => "")));
            await sleep(1);
            both.set();
          });
          return "too late";
        },
      };
      await withApp(routes, {}, async (port) => {
        const reply = get(port, "/both", (request) => void both.wait().then(() => request.destroy()));
        await expect(reply).rejects.toMatchObject({ code: "ECONNRESET" });
        while (kinds.length < 2) await sleep(1);
      });
      expect(kinds).toEqual(["disconnect", "disconnect"]);
      expect(logged()).toEqual([]);
    });

    it(`${name}() rejects bad options and a value that is not an app with errors that say what was wrong`, async () => {
      const attempt = (options: Record<string, unknown>) =>
        taskGroup((tg) => tg.start<AddressInfo>((status) => adapter.serve({}, () => {}, options, status)));
      await expect(attempt({ port: -1 })).rejects.toThrow(new RangeError(`${name}() port must be an integer from 0 to 65535; got -1`));
      await expect(attempt({ port: 0, requestTimeout: "5s" })).rejects.toThrow(
        new TypeError(`${name}() requestTimeout must be a number of milliseconds; got "5s"`),
      );
      await expect(attempt({ port: 0, gracePeriod: -5 })).rejects.toThrow(
        new RangeError(`${name}() gracePeriod must be a non-negative number of milliseconds; got -5`),
      );
      await expect(taskGroup((tg) => tg.start<AddressInfo>((status) => adapter.serveNotAnApp({ listen() {} }, status)))).rejects.toThrow(
        new RegExp(`^${name}\\(\\) app must be an? .+; got an object$`),
      );
    });
  });
}
