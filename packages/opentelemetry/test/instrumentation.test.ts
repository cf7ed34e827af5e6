// Spans of other instrumentation inside tasks: fetch() (undici's instrumentation), and a request through
// serveHttp, and through a framework adapter (@quartet/hono), (http's instrumentation, on a real socket) whose
// handler's spans nest under the request.
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { run, taskGroup, type TaskStatus } from "@quartet/core";
import { serveHono } from "@quartet/hono";
import { serveHttp, type HttpHandler } from "@quartet/node";
import { Hono } from "hono";
import { afterAll, beforeAll, expect, it } from "vitest";
import { memoryProvider, spanTree, useContextManager, type SpanNode } from "./spans.js";
import { traceToOpenTelemetry } from "../src/index.js";

useContextManager();

const { provider, exporter } = memoryProvider();
const tracer = provider.getTracer("test");
let instrumentations: Array<HttpInstrumentation | UndiciInstrumentation> = [];

beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const http = new HttpInstrumentation();
  const undici = new UndiciInstrumentation();
  instrumentations = [http, undici];
  for (const instrumentation of instrumentations) instrumentation.setTracerProvider(provider);
  // The http instrumentation patches the module when it is next required (Server.prototype.emit: every server).
  createRequire(import.meta.url)("http");
});

afterAll(() => {
  for (const instrumentation of instrumentations) instrumentation.disable();
  propagation.disable();
});

/** The finished span called `name` (the only one). */
function span(name: string): ReadableSpan {
  const found = exporter.getFinishedSpans().filter((each) => each.name === name);
  expect(found, `spans named ${name}`).toHaveLength(1);
  return found[0]!;
}

/** A span tree with only the names, links and children. */
function shape(node: SpanNode): SpanNode {
  const result: SpanNode = { name: node.name };
  if (node.links !== undefined) result.links = node.links;
  if (node.children !== undefined) result.children = node.children.map(shape);
  return result;
}

function parentOf(child: ReadableSpan): string | undefined {
  return child.parentSpanContext?.spanId;
}

/** The span tree of the finished spans, from the task "client" down (see startAndCall). */
function clientTree(spans: readonly ReadableSpan[]): SpanNode {
  const main = spanTree(spans).find((root) => root.name === 'task "main"')!;
  return shape(main.children![0]!.children!.find((child) => child.name === 'task "client"')!);
}

/**
 * The shape of a fetch of `path` from a task: the fetch's span (undici's instrumentation), the server's span for the
 * request (http's), the request's task (linked to its `group`) and its scope, with `inner` (the handler's spans) inside.
 */
function fetched(path: string, group: string, inner?: SpanNode[]): SpanNode {
  const scope: SpanNode = { name: `cancel scope "GET ${path}"` };
  if (inner !== undefined) scope.children = inner;
  const task: SpanNode = { name: `task "GET ${path}"`, links: [group], children: [scope] };
  return { name: "GET", children: [{ name: "GET", children: [task] }] };
}

/**
 * With tracing on, runs a server for `handler` (in a task "server") and `client(port)` (in a task "client") in a
 * group "app", and stops the server when the client is done. Responses close their connection: no keep-alive
 * socket is left behind.
 */
async function serveAndCall(handler: HttpHandler, client: (port: number) => Promise<void>): Promise<void> {
  const closing: HttpHandler = (request, response, context) => {
    response.setHeader("connection", "close");
    return handler(request, response, context);
  };
  await startAndCall((status) => serveHttp(closing, { port: 0, host: "127.0.0.1" }, status), client);
}

/** With tracing on, starts `server` (in a task "server") and runs `client(port)` (in a task "client") in a group "app"; then stops the server. */
async function startAndCall(server: (status: TaskStatus<AddressInfo>) => Promise<never>, client: (port: number) => Promise<void>): Promise<void> {
  exporter.reset();
  const stop = traceToOpenTelemetry({ tracerProvider: provider });
  try {
    await run(async function main() {
      await taskGroup(async (tg) => {
        const { port } = await tg.start<AddressInfo>(server, { name: "server" });
        tg.spawn(async () => {
          await client(port);
          tg.cancelScope.cancel();
        }, { name: "client" });
      }, { name: "app" });
    });
  } finally {
    stop();
  }
}

/** GETs `path` from the server at `port`; returns the body. */
async function get(port: number, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return response.text();
}

it("spans made in a task by other instrumentation (fetch through undici's, a manual startActiveSpan) are children of the task's span", async () => {
  await serveAndCall(
    (_request, response) => void response.end("pong"),
    async (port) => {
      await tracer.startActiveSpan("prepare", async (prepare) => {
        expect(await get(port, "/ping")).toBe("pong");
        prepare.end();
      });
      expect(await get(port, "/ping")).toBe("pong");
    },
  );
  const client = span('task "client"');
  const prepare = span("prepare");
  expect(parentOf(prepare)).toBe(client.spanContext().spanId);
  const fetches = exporter.getFinishedSpans().filter((each) => each.name === "GET" && each.kind === 2 /* CLIENT */);
  expect(fetches.map(parentOf).sort()).toEqual([client.spanContext().spanId, prepare.spanContext().spanId].sort());
});

it("a request through serveHttp continues the trace of its incoming request span; the handler's spans nest under the request's task and scope", async () => {
  let port = 0;
  await serveAndCall(
    async (request, response) => {
      if (request.url === "/data") return void response.end("data");
      await tracer.startActiveSpan("render", async (render) => {
        await get(port, "/data"); // a call to another service, from the handler
        render.end();
      });
      response.end("page");
    },
    async (serving) => {
      port = serving;
      expect(await get(port, "/page")).toBe("page");
    },
  );
  const spans = exporter.getFinishedSpans();
  // From the client's fetch across the socket (the traceparent header) to the server's span for the request, its
  // task and scope, and the handler's spans, down to the second request the handler makes.
  const group = 'task group: task group "serveHttp requests"';
  expect(clientTree(spans)).toEqual({
    name: 'task "client"',
    children: [fetched("/page", group, [{ name: "render", children: [fetched("/data", group)] }])],
  });
  const incoming = spans.filter((each) => each.kind === 1 /* SERVER */).map((each) => each.attributes["url.path"] ?? each.attributes["http.target"]);
  expect(incoming.sort()).toEqual(["/data", "/page"]);
  expect(new Set(spans.map((each) => each.spanContext().traceId)).size).toBe(1);
  expect(trace.getActiveSpan()).toBeUndefined();
});

it("a request through a framework adapter (serveHono) nests the same way: request span, its task and scope, the handler's spans", async () => {
  const app = new Hono();
  let port = 0;
  app.use(async (c, next) => {
    c.header("connection", "close");
    await next();
  });
  app.get("/data", (c) => c.text("data"));
  app.get("/page", async (c) => {
    const data = await tracer.startActiveSpan("render", async (render) => {
      try {
        return await get(port, "/data");
      } finally {
        render.end();
      }
    });
    return c.text(`page with ${data}`);
  });
  await startAndCall(
    (status) => serveHono(app, { port: 0, host: "127.0.0.1" }, status),
    async (serving) => {
      port = serving;
      expect(await get(port, "/page")).toBe("page with data");
    },
  );
  const spans = exporter.getFinishedSpans();
  const group = 'task group: task group "serveHono requests"';
  // As serveHttp's: Hono's handlers run in the request's own task, in its scope.
  expect(clientTree(spans)).toEqual({
    name: 'task "client"',
    children: [fetched("/page", group, [{ name: "render", children: [fetched("/data", group)] }])],
  });
  expect(new Set(spans.map((each) => each.spanContext().traceId)).size).toBe(1);
});
