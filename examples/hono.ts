// A Hono 4 app served by @quartet/hono on @hono/node-server: every request is a Quartet task with a cancel
// scope (client gone, deadline, shutdown) in which the app's middleware and handlers run, and errors go to
// the app's onError. Run it with `npx --yes pnpm@12 tsx examples/hono.ts`, then try
//   curl http://127.0.0.1:PORT/report     (and press Ctrl-C in curl before it answers)
//   curl http://127.0.0.1:PORT/upstream   (a 503 once the request timeout passes)
//   curl http://127.0.0.1:PORT/broken     (the app's onError answers)
// docs/request-handlers.md explains it.
import { setTimeout as delay } from "node:timers/promises";
import { Hono } from "hono";
import { currentSignal, isCancelled, sleep, type Cancelled } from "@quartet/core";
import { runMain } from "@quartet/node";
import { serveHono } from "@quartet/hono";

const REQUEST_TIMEOUT_MS = Number(process.env.REQUEST_TIMEOUT_MS ?? 2000);

// #region app
const app = new Hono();

app.get("/report", async (c) => {
  console.log(`${c.req.path}: started`);
  try {
    for (let step = 1; step <= 10; step++) await sleep(500); // Quartet's own waits: woken by cancellation
    return c.text("the report\n");
  } catch (error) {
    if (isCancelled(error)) console.log(`${c.req.path}: cancelled (${(error as Cancelled).origin.kind})`);
    throw error; // the request's cancellation: it goes to no error handler
  } finally {
    console.log(`${c.req.path}: cleanup ran`);
  }
});

app.get("/upstream", async (c) => {
  try {
    return c.text(await delay(10_000, "the upstream answer\n", { signal: currentSignal() })); // aborted with the request
  } catch (error) {
    if (isCancelled(error)) console.log(`${c.req.path}: cancelled (${(currentSignal().reason as Cancelled).origin.kind})`); // the aborted call threw an AbortError: the Cancelled is the reason
    throw error;
  }
});

app.get("/broken", () => {
  throw new Error("not implemented");
});

app.onError((error, c) => {
  console.log(`${c.req.path}: failed: ${error.message}`); // only failures get here, never a cancellation
  return c.text("something broke\n", 500);
});
// #endregion

// #region server
await runMain(async () => {
  try {
    await serveHono(
      app,
      { port: Number(process.env.PORT ?? 0), host: "127.0.0.1", requestTimeout: REQUEST_TIMEOUT_MS, gracePeriod: 100 },
      { started: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`) },
    );
  } finally {
    console.log("server: stopped");
  }
});
// #endregion
