import type { AddressInfo } from "node:net";
import fastify, { type FastifyInstance } from "fastify";
import { expect, it } from "vitest";
import { currentSignal, sleep, taskGroup } from "@quartet/core";
import { adapterSuite, type Work } from "../../node/test/framework-suite.js";
import { get, LOCAL } from "../../node/test/http-helpers.js";
import * as adapter from "../src/index.js";
import { quartetRoutes, serveFastify } from "../src/index.js";

async function appWith(routes: Record<string, Work>, failed: (error: unknown) => void): Promise<FastifyInstance> {
  const app = fastify();
  await app.register(quartetRoutes);
  for (const [path, work] of Object.entries(routes)) app.get(path, async () => work());
  app.setErrorHandler((error: Error, _request, reply) => {
    failed(error);
    void reply.code(500).send(`failed: ${error.message}`);
  });
  return app;
}

adapterSuite({
  name: "serveFastify",
  serve: async (routes, failed, options, status) => serveFastify(await appWith(routes, failed), options as unknown as adapter.ServeFastifyOptions, status),
  serveNotAnApp: (value, status) => serveFastify(value as FastifyInstance, { port: 0 }, status),
});

it("@quartet/fastify exports serveFastify and quartetRoutes", () => {
  expect(Object.keys(adapter).sort()).toEqual(["quartetRoutes", "serveFastify"]);
});

it("serveFastify() refuses an app without quartetRoutes, whose handlers would not be tasks", async () => {
  const app = fastify();
  app.get("/", async () => "not a task");
  await expect(taskGroup((tg) => tg.start<AddressInfo>((status) => serveFastify(app, LOCAL, status)))).rejects.toThrow(
    new TypeError("serveFastify() app must have the quartetRoutes plugin registered before its routes (await app.register(quartetRoutes))"),
  );
});

it("route handlers in plugins are tasks too, reply.send() works, and shutting down closes the app (its onClose hooks run)", async () => {
  const app = fastify();
  await app.register(quartetRoutes);
  let closed = false;
  app.addHook("onClose", async () => void (closed = true));
  await app.register(async (child) => {
    child.get("/child", async (_request, reply) => {
      await sleep(1);
      return reply.send(`in a plugin, aborted: ${currentSignal().aborted}`);
    });
  });
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) => serveFastify(app, LOCAL, status));
    expect(await get(port, "/child")).toMatchObject({ status: 200, body: "in a plugin, aborted: false" });
    expect(closed).toBe(false);
    tg.cancelScope.cancel();
  });
  expect(closed).toBe(true);
});

it("with quartetRoutes, app.inject() (no serveFastify) runs handlers as they are", async () => {
  const app = fastify();
  await app.register(quartetRoutes);
  app.get("/", async () => "as it is");
  app.get("/broken", async () => {
    throw new Error("broken");
  });
  expect((await app.inject("/")).body).toBe("as it is");
  expect((await app.inject("/broken")).statusCode).toBe(500);
  await app.close();
});
