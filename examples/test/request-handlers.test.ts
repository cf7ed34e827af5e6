import { expect, it } from "vitest";
import { httpGet } from "./http-get.js";
import { startExample } from "./run-example.js";

it("request-handlers.ts cancels slow handlers when their client aborts, when their deadline passes and when the server shuts down, and their cleanup runs", async () => {
  const example = startExample("request-handlers", { REQUEST_TIMEOUT_MS: "300" });
  const [, url] = await example.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\n/);

  // A user who gives up: the request is aborted while the report is being built.
  const aborted = httpGet(`${url}/report`, (request) => {
    void example.waitFor(/\/report: started/).then(() => request.destroy());
  });
  await expect(aborted).rejects.toMatchObject({ code: "ECONNRESET" });
  await example.waitFor(/\/report: cleanup ran/);

  // A user who waits: the deadline passes first, and they get a 503.
  expect(await httpGet(`${url}/upstream`)).toEqual({ status: 503, body: "the request timed out\n" });
  await example.waitFor(/\/upstream: the upstream call was aborted/);

  // An ordinary request.
  expect(await httpGet(`${url}/`)).toEqual({ status: 200, body: "hello\n" });

  // Shutting down with a request in flight: it gets the grace period, then is cancelled, and its client a 503.
  const inFlight = httpGet(`${url}/report`);
  await example.waitFor(/\/report: started[\s\S]*\/report: started/);
  example.child.kill("SIGINT");
  expect(await inFlight).toEqual({ status: 503, body: "the server is shutting down\n" });
  const { code, stdout, stderr } = await example.ended;
  expect(stderr).toBe("");
  expect(code).toBe(130);
  expect(stdout.trimEnd().split("\n").slice(1)).toEqual([
    "/report: started, holding a report worker",
    "/report: cancelled (the client disconnected before the response was finished)",
    "/report: cleanup ran, the report worker is released",
    "/upstream: calling the upstream service",
    "/upstream: the upstream call was aborted (its deadline passed)",
    "/report: started, holding a report worker",
    "/report: cancelled (serveHttp: the server is shutting down)",
    "/report: cleanup ran, the report worker is released",
    "server: stopped",
  ]);
});
