// An HTTP server whose slow request handlers are cancelled when their client
// goes away and when their deadline passes, and whose cleanup always runs.
// Run it with `npx --yes pnpm@12 tsx examples/request-handlers.ts`, then try
//   curl http://127.0.0.1:PORT/report     (and press Ctrl-C in curl before it answers)
//   curl http://127.0.0.1:PORT/upstream   (a 503 once the request timeout passes)
// docs/request-handlers.md explains it.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { TimeoutError, isCancelled, sleep, type Cancelled } from "@quartet/core";
import { runMain, serveHttp, type RequestContext } from "@quartet/node";

/** How long a request may take; small values make the timeouts quick to try. */
const REQUEST_TIMEOUT_MS = Number(process.env.REQUEST_TIMEOUT_MS ?? 2000);

/** Why a request was cancelled, in words. */
function why(error: Cancelled): string {
  return error.reason instanceof TimeoutError ? "its deadline passed" : String(error.reason);
}

// #region report
/** A slow handler: builds a report in steps, holding a resource that must be given back. */
async function report(request: IncomingMessage, response: ServerResponse): Promise<void> {
  console.log(`${request.url}: started, holding a report worker`);
  try {
    for (let step = 1; step <= 10; step++) await sleep(500); // Quartet's own waits: woken by cancellation
    response.end("the report\n");
    console.log(`${request.url}: finished`);
  } catch (error) {
    if (isCancelled(error)) console.log(`${request.url}: cancelled (${why(error as Cancelled)})`);
    throw error; // let the cancellation go on: the request's scope catches it
  } finally {
    console.log(`${request.url}: cleanup ran, the report worker is released`);
  }
}
// #endregion

// #region upstream
/** A handler that waits for a foreign API (here, a slow timer) and passes it the request's signal. */
async function upstream(request: IncomingMessage, response: ServerResponse, { signal }: RequestContext): Promise<void> {
  console.log(`${request.url}: calling the upstream service`);
  try {
    const answer = await delay(10_000, "the upstream answer\n", { signal }); // aborted with the request
    response.end(answer);
  } catch (error) {
    if (isCancelled(error)) console.log(`${request.url}: the upstream call was aborted (${why(signal.reason as Cancelled)})`);
    throw error;
  }
}
// #endregion

// #region server
await runMain(async () => {
  try {
    await serveHttp(
      async (request, response, context) => {
        if (request.url === "/report") return report(request, response);
        if (request.url === "/upstream") return upstream(request, response, context);
        response.end("hello\n");
      },
      { port: Number(process.env.PORT ?? 0), host: "127.0.0.1", requestTimeout: REQUEST_TIMEOUT_MS, gracePeriod: 100 },
      { started: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`) },
    );
  } finally {
    console.log("server: stopped");
  }
});
// #endregion
