import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it, vi } from "vitest";
import { Cancelled, Event, currentEffectiveDeadline, isCancelled, sleep, sleepForever, taskGroup } from "@quartet/core";
import { currentTaskName, taskTree, formatTaskTree } from "@quartet/core/lowlevel";
import { argumentError, asRequestCancellation, serveFramework, spawnRequestTask, type FrameworkListener } from "../src/frameworks.js";
import { get, LOCAL } from "./http-helpers.js";

it("serveFramework() calls the listener in the request's task and scope, and waits for the tasks its handlers spawn", async () => {
  const order: string[] = [];
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) =>
      serveFramework(
        "serveTiny",
        (request, response) => {
          order.push(`listener, deadline set: ${currentEffectiveDeadline() !== Infinity}`);
          const spawned = spawnRequestTask(request, async () => {
            await sleep(1);
            response.end("from a task\n");
            await sleep(5);
            order.push("task done");
          }, "answer");
          order.push(`spawned: ${spawned}`);
        },
        { ...LOCAL, requestTimeout: 60_000, gracePeriod: 10_000 }, // the shutdown waits for the request, task included
        status,
      ),
    );
    expect(await get(port, "/")).toMatchObject({ status: 200, body: "from a task\n" });
    tg.cancelScope.cancel();
  });
  expect(order).toEqual(["listener, deadline set: true", "spawned: true", "task done"]);
});

it("spawnRequestTask() returns false for a request that serveFramework does not serve, and asRequestCancellation() returns its error as it is", () => {
  const request = { method: "GET", url: "/" } as IncomingMessage;
  const error = new Error("boom");
  expect(spawnRequestTask(request, async () => {})).toBe(false);
  expect(asRequestCancellation(request, error)).toBe(error);
  expect(asRequestCancellation(request, new Cancelled("elsewhere"))).toBeInstanceOf(Cancelled);
});

it("serveFramework() rejects a listener that is not a function, naming the server", async () => {
  await expect(serveFramework("serveTiny", 42 as never, LOCAL)).rejects.toThrow(new TypeError("serveTiny() listener must be a function; got 42"));
  await expect(serveFramework("serveTiny", () => {}, null as never)).rejects.toThrow(new TypeError("serveTiny() options must be an object; got null"));
  expect(() => spawnRequestTask({} as IncomingMessage, null as never)).toThrow(new TypeError("spawnRequestTask() fn must be a function; got null"));
  expect(argumentError("f() x", "a y", [1])).toEqual(new TypeError("f() x must be a y; got an array of length 1"));
});

/** Runs `body` with serveFramework("serveTiny", listener) on a free port; then stops the server, which waits for the requests in flight. */
async function withFramework(listener: FrameworkListener, body: (port: number) => Promise<void>): Promise<void> {
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) => serveFramework("serveTiny", listener, { ...LOCAL, requestTimeout: 60_000, gracePeriod: 10_000 }, status));
    await body(port);
    tg.cancelScope.cancel();
  });
}

it("a handler spawned while the listener runs runs in the request's own task; one spawned later runs as a task of a group the request opens", async () => {
  const seen: string[] = [];
  let tree = "";
  await withFramework(
    (request, response) => {
      if (request.url === "/at-once") {
        spawnRequestTask(request, async () => {
          seen.push(`at once: in ${currentTaskName()}`);
          await sleep(1);
          response.end("at once\n");
        });
      } else {
        setImmediate(() => {
          // Called from an event, as Express calls a handler once a body has been read.
          spawnRequestTask(request, async () => {
            seen.push(`later: in ${currentTaskName()}`);
            tree = formatTaskTree(taskTree());
            await sleep(1);
            response.end("later\n");
          }, "the handler");
        });
      }
    },
    async (port) => {
      expect(await get(port, "/at-once")).toMatchObject({ status: 200, body: "at once\n" });
      expect(await get(port, "/later")).toMatchObject({ status: 200, body: "later\n" });
    },
  );
  expect(seen).toEqual(["at once: in GET /at-once", "later: in the handler"]);
  expect(tree).toMatch(/task "GET \/later"[\s\S]*task group "GET \/later"[\s\S]*task "the handler"/);
});

it("a handler spawned while another runs in the request's task starts at once (it may be what the first waits for), and both are waited for", async () => {
  const order: string[] = [];
  await withFramework(
    (request, response) => {
      const ready = new Event();
      spawnRequestTask(request, async () => {
        setImmediate(() =>
          spawnRequestTask(request, async () => {
            order.push("second runs");
            ready.set();
            await sleep(5);
            order.push("second done");
          }),
        );
        await ready.wait(); // would never end if the second waited for the first
        order.push("first done");
        response.end("both\n");
      });
    },
    async (port) => {
      expect(await get(port, "/")).toMatchObject({ status: 200, body: "both\n" });
    },
  );
  expect(order).toEqual(["second runs", "first done", "second done"]);
});

it("an error a handler lets out fails the request: a 500 and a report, or a 503 when it must cancel a handler still running in the request's task", async () => {
  const errors = vi.spyOn(console, "error").mockImplementation(() => {});
  const cancelled: string[] = [];
  try {
    await withFramework(
      (request) => {
        if (request.url === "/alone") {
          spawnRequestTask(request, async () => {
            await sleep(1);
            throw new Error("handler failed");
          });
          return;
        }
        spawnRequestTask(request, async () => {
          try {
            await sleepForever();
          } catch (error) {
            if (isCancelled(error)) cancelled.push((error as Cancelled).origin.kind);
            throw error;
          }
        });
        setImmediate(() =>
          spawnRequestTask(request, async () => {
            throw new Error("later task failed");
          }),
        );
      },
      async (port) => {
        expect(await get(port, "/alone")).toMatchObject({ status: 500, body: "internal server error\n" });
        expect(await get(port, "/with-running")).toMatchObject({ status: 503, body: "the request was cancelled\n" });
      },
    );
    expect(cancelled).toEqual(["cancel"]);
    const reported = errors.mock.calls.map((call) => `${String(call[0])} ${(call[1] as Error).message}`);
    expect(reported).toEqual(["serveTiny: GET /alone failed: handler failed", "serveTiny: GET /with-running failed: later task failed"]);
  } finally {
    errors.mockRestore();
  }
});

it("a listener that answers at once, and one that leaves the response to an event, are both served (the request waits for the response)", async () => {
  await withFramework(
    (request, response) => {
      if (request.url === "/sync") response.end("sync\n");
      else setTimeout(() => response.end("from a timer\n"), 2); // a callback-style handler, not a task
    },
    async (port) => {
      expect(await get(port, "/sync")).toMatchObject({ status: 200, body: "sync\n" });
      expect(await get(port, "/timer")).toMatchObject({ status: 200, body: "from a timer\n" });
    },
  );
});

it("the request's task does not end while a handler runs in it: a listener that fails waits for it, and a handler spawned after the end is refused", async () => {
  const errors = vi.spyOn(console, "error").mockImplementation(() => {});
  const order: string[] = [];
  let late: unknown;
  try {
    await withFramework(
      (request, response) => {
        if (request.url === "/late") {
          response.end("done\n");
          setTimeout(() => {
            try {
              spawnRequestTask(request, async () => void order.push("late handler ran"));
            } catch (error) {
              late = error;
            }
          }, 5);
          return;
        }
        spawnRequestTask(request, async () => {
          try {
            await sleep(5);
            response.end("handled\n");
          } finally {
            order.push("handler done");
          }
        });
        return Promise.reject(new Error("listener failed"));
      },
      async (port) => {
        expect(await get(port, "/fails")).toMatchObject({ status: 200, body: "handled\n" });
        expect(await get(port, "/late")).toMatchObject({ status: 200, body: "done\n" });
        await new Promise((resolve) => setTimeout(resolve, 20)); // a real timer of the test's own: the late spawn's
      },
    );
    order.push(...errors.mock.calls.map((call) => `reported: ${(call[1] as Error).message}`));
    expect(order).toEqual(["handler done", "reported: listener failed"]);
    expect(late).toEqual(new Error("spawnRequestTask(): the request GET /late has ended (its response is finished), so no handler of it can start any more"));
  } finally {
    errors.mockRestore();
  }
});
