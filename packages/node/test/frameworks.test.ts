import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { Cancelled, currentEffectiveDeadline, sleep, taskGroup } from "@quartet/core";
import { argumentError, asRequestCancellation, serveFramework, spawnRequestTask } from "../src/frameworks.js";
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
