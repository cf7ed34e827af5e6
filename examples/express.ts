// An Express 5 app served by @quartet/express: every request has a cancel scope (client gone, deadline,
// shutdown), handlers wrapped in asTask() run as Quartet tasks in it, and errors go to Express's error
// middleware. Run it with `npx --yes pnpm@12 tsx examples/express.ts`, then try
//   curl http://127.0.0.1:PORT/report     (and press Ctrl-C in curl before it answers)
//   curl http://127.0.0.1:PORT/upstream   (a 503 once the request timeout passes)
//   curl http://127.0.0.1:PORT/broken     (Express's error middleware answers)
// docs/request-handlers.md explains it.
import { setTimeout as delay } from "node:timers/promises";
import express, { type NextFunction, type Request, type Response } from "express";
import { currentSignal, isCancelled, sleep, type Cancelled } from "@quartet/core";
import { runMain } from "@quartet/node";
import { asTask, serveExpress } from "@quartet/express";

const REQUEST_TIMEOUT_MS = Number(process.env.REQUEST_TIMEOUT_MS ?? 2000);

// #region app
const app = express();

app.get("/report", asTask(async (request, response) => {
  console.log(`${request.url}: started`);
  try {
    for (let step = 1; step <= 10; step++) await sleep(500); // Quartet's own waits: woken by cancellation
    response.send("the report\n");
  } catch (error) {
    if (isCancelled(error)) console.log(`${request.url}: cancelled (${(error as Cancelled).origin.kind})`);
    throw error; // the request's cancellation: it goes to no error handler
  } finally {
    console.log(`${request.url}: cleanup ran`);
  }
}));

app.get("/upstream", asTask(async (request, response) => {
  try {
    response.send(await delay(10_000, "the upstream answer\n", { signal: currentSignal() })); // aborted with the request
  } catch (error) {
    if (isCancelled(error)) console.log(`${request.url}: cancelled (${(currentSignal().reason as Cancelled).origin.kind})`); // the aborted call threw an AbortError: the Cancelled is the reason
    throw error;
  }
}));

app.get("/broken", asTask(async () => {
  throw new Error("not implemented");
}));

app.use((error: Error, request: Request, response: Response, _next: NextFunction) => {
  console.log(`${request.url}: failed: ${error.message}`); // only failures get here, never a cancellation
  response.status(500).send("something broke\n");
});
// #endregion

// #region server
await runMain(async () => {
  try {
    await serveExpress(
      app,
      { port: Number(process.env.PORT ?? 0), host: "127.0.0.1", requestTimeout: REQUEST_TIMEOUT_MS, gracePeriod: 100 },
      { started: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`) },
    );
  } finally {
    console.log("server: stopped");
  }
});
// #endregion
