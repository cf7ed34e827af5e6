// A Fastify 5 app served by @quartet/fastify: every request has a cancel scope (client gone, deadline,
// shutdown), route handlers run as Quartet tasks in it (the quartetRoutes plugin), and errors go to
// Fastify's error handler. Run it with `npx --yes pnpm@12 tsx examples/fastify.ts`, then try
//   curl http://127.0.0.1:PORT/report     (and press Ctrl-C in curl before it answers)
//   curl http://127.0.0.1:PORT/upstream   (a 503 once the request timeout passes)
//   curl http://127.0.0.1:PORT/broken     (Fastify's error handler answers)
// docs/request-handlers.md explains it.
import { setTimeout as delay } from "node:timers/promises";
import fastify from "fastify";
import { currentSignal, isCancelled, sleep, type Cancelled } from "@quartet/core";
import { runMain } from "@quartet/node";
import { quartetRoutes, serveFastify } from "@quartet/fastify";

const REQUEST_TIMEOUT_MS = Number(process.env.REQUEST_TIMEOUT_MS ?? 2000);

// #region app
const app = fastify();
await app.register(quartetRoutes); // before the routes: every route handler is a task of its request

app.get("/report", async (request) => {
  console.log(`${request.url}: started`);
  try {
    for (let step = 1; step <= 10; step++) await sleep(500); // Quartet's own waits: woken by cancellation
    return "the report\n";
  } catch (error) {
    if (isCancelled(error)) console.log(`${request.url}: cancelled (${(error as Cancelled).origin.kind})`);
    throw error; // the request's cancellation: it goes to no error handler
  } finally {
    console.log(`${request.url}: cleanup ran`);
  }
});

app.get("/upstream", async (request) => {
  try {
    return await delay(10_000, "the upstream answer\n", { signal: currentSignal() }); // aborted with the request
  } catch (error) {
    if (isCancelled(error)) console.log(`${request.url}: cancelled (${(currentSignal().reason as Cancelled).origin.kind})`); // the aborted call threw an AbortError: the Cancelled is the reason
    throw error;
  }
});

app.get("/broken", async () => {
  throw new Error("not implemented");
});

app.setErrorHandler((error: Error, request, reply) => {
  console.log(`${request.url}: failed: ${error.message}`); // only failures get here, never a cancellation
  void reply.code(500).send("something broke\n");
});
// #endregion

// #region server
await runMain(async () => {
  try {
    await serveFastify(
      app,
      { port: Number(process.env.PORT ?? 0), host: "127.0.0.1", requestTimeout: REQUEST_TIMEOUT_MS, gracePeriod: 100 },
      { started: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`) },
    );
  } finally {
    console.log("server: stopped");
  }
});
// #endregion
