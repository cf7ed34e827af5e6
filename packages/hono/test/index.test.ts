import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { expect, it, vi } from "vitest";
import { sleep, taskGroup } from "@quartet/core";
import { adapterSuite, type Work } from "../../node/test/framework-suite.js";
import { get, LOCAL } from "../../node/test/http-helpers.js";
import * as adapter from "../src/index.js";
import { serveHono } from "../src/index.js";

function appWith(routes: Record<string, Work>, failed: (error: unknown) => void): Hono {
  const app = new Hono();
  for (const [path, work] of Object.entries(routes)) app.get(path, async (c) => c.text(await work()));
  app.onError((error, c) => {
    failed(error);
    return c.text(`failed: ${error.message}`, 500);
  });
  return app;
}

adapterSuite({
  name: "serveHono",
  serve: (routes, failed, options, status) => serveHono(appWith(routes, failed), options as unknown as adapter.ServeHonoOptions, status),
  serveNotAnApp: (value, status) => serveHono(value as Hono, { port: 0 }, status),
});

it("@quartet/hono exports serveHono", () => {
  expect(Object.keys(adapter).sort()).toEqual(["serveHono"]);
});

it("with Hono's default error handler, a handler's error is logged and answered 500, and the request's cancellation is not", async () => {
  const app = new Hono();
  app.get("/broken", () => {
    throw new Error("broken");
  });
  app.get("/slow", async (c) => {
    await sleep(60_000);
    return c.text("too late");
  });
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) => serveHono(app, { ...LOCAL, requestTimeout: 50 }, status));
      expect(await get(port, "/slow")).toMatchObject({ status: 503, body: "the request timed out\n" });
      expect(logged).not.toHaveBeenCalled();
      expect(await get(port, "/broken")).toMatchObject({ status: 500, body: "Internal Server Error" });
      expect(logged).toHaveBeenCalledWith(new Error("broken"));
      tg.cancelScope.cancel();
    });
  } finally {
    logged.mockRestore();
  }
});

it("an onError set after serveHono started is guarded too, and middleware runs in the request's task", async () => {
  const app = new Hono();
  const seen: unknown[] = [];
  app.use(async (c, next) => {
    await sleep(1); // a Quartet wait in middleware
    await next();
    c.header("x-middleware", "ran");
  });
  app.get("/slow", async (c) => {
    await sleep(60_000);
    return c.text("too late");
  });
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) => serveHono(app, { ...LOCAL, requestTimeout: 50 }, status));
    app.onError((error, c) => {
      seen.push(error);
      return c.text("failed", 500);
    });
    expect(await get(port, "/slow")).toMatchObject({ status: 503 });
    expect(await get(port, "/missing")).toMatchObject({ status: 404, headers: { "x-middleware": "ran" } });
    tg.cancelScope.cancel();
  });
  expect(seen).toEqual([]);
});
