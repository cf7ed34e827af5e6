import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import express, { type NextFunction, type Request, type Response } from "express";
import { expect, it, vi } from "vitest";
import { currentSignal, sleep, taskGroup } from "@quartet/core";
import { adapterSuite, type Work } from "../../node/test/framework-suite.js";
import { get, LOCAL } from "../../node/test/http-helpers.js";
import * as adapter from "../src/index.js";
import { asTask, serveExpress } from "../src/index.js";

function appWith(routes: Record<string, Work>, failed: (error: unknown) => void): express.Express {
  const app = express();
  for (const [path, work] of Object.entries(routes)) app.get(path, asTask(async (_request, response) => void response.send(await work())));
  app.use((error: Error, _request: Request, response: Response, _next: NextFunction) => {
    failed(error);
    response.status(500).send(`failed: ${error.message}`);
  });
  return app;
}

adapterSuite({
  name: "serveExpress",
  serve: (routes, failed, options, status) => serveExpress(appWith(routes, failed), options as unknown as adapter.ServeExpressOptions, status),
  serveNotAnApp: (value, status) => serveExpress(value as express.Express, { port: 0 }, status),
});

it("@quartet/express exports serveExpress and asTask", () => {
  expect(Object.keys(adapter).sort()).toEqual(["asTask", "serveExpress"]);
});

it("an error handler wrapped in asTask (four parameters) runs as a task of the request and stays an error handler", async () => {
  const app = express();
  app.get("/broken", asTask(async () => {
    throw new Error("broken");
  }));
  app.use(asTask(async (error: Error, _request: Request, response: Response, _next: NextFunction) => {
    await sleep(1); // a Quartet wait: it is a task
    response.status(500).send(`handled ${error.message}, aborted: ${currentSignal().aborted}`);
  }));
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) => serveExpress(app, LOCAL, status));
    expect(await get(port, "/broken")).toMatchObject({ status: 500, body: "handled broken, aborted: false" });
    tg.cancelScope.cancel();
  });
});

it("without a response from any handler, Express's own final handler answers (404), and unwrapped handlers work as usual", async () => {
  const app = express();
  app.get("/plain", (_request, response) => void response.send("plain"));
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) => serveExpress(app, LOCAL, status));
    expect(await get(port, "/plain")).toMatchObject({ status: 200, body: "plain" });
    expect(await get(port, "/missing")).toMatchObject({ status: 404 });
    tg.cancelScope.cancel();
  });
});

it("a body parser whose body the deadline cut short does not log or answer 500: the client has its 503", async () => {
  const app = express();
  app.set("env", "production"); // Express logs errors except under NODE_ENV=test, which vitest sets
  const logged = vi.spyOn(console, "error");
  const parsed = new Promise<unknown>((resolve) => app.post("/upload", (request, response, next) => express.json()(request, response, (error?: unknown) => {
    resolve(error);
    next(error); // to Express's final handler, which logs what is not the request's cancellation
  })));
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) => serveExpress(app, { ...LOCAL, requestTimeout: 100 }, status));
    const { request } = await import("node:http");
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = request({ host: "127.0.0.1", port, path: "/upload", method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": 100 } }, (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, body }));
      });
      outgoing.on("error", reject);
      outgoing.write('{"half": '); // and never the rest
    });
    expect(reply).toEqual({ status: 503, body: "the request timed out\n" });
    expect(await parsed).toBeInstanceOf(Error); // the body parser failed, with the cancellation
    tg.cancelScope.cancel();
  });
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve)); // Express's final handler logs a few turns later
  expect(logged).not.toHaveBeenCalled();
  vi.restoreAllMocks();
});

it("asTask runs the handler as it is for a request not served by serveExpress (an app under test on its own server)", async () => {
  const app = express();
  app.get("/", asTask(async (_request, response) => void response.send("as it is")));
  app.get("/broken", asTask(async () => {
    throw new Error("broken");
  }));
  app.use((error: Error, _request: Request, response: Response, _next: NextFunction) => void response.status(500).send(error.message));
  const server = createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  try {
    expect(await get(port, "/")).toMatchObject({ status: 200, body: "as it is" });
    expect(await get(port, "/broken")).toMatchObject({ status: 500, body: "broken" });
  } finally {
    server.close();
    await once(server, "close");
  }
});

it("asTask() rejects a handler that is not a function", () => {
  expect(() => asTask(42 as never)).toThrow(new TypeError("asTask() handler must be a function; got 42"));
});
