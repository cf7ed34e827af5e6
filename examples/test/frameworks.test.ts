import { expect, it } from "vitest";
import { httpGet } from "./http-get.js";
import { startExample } from "./run-example.js";

for (const name of ["express", "fastify", "hono"]) {
  it(`${name}.ts cancels a handler when its client aborts, at its deadline and at shutdown, and sends failures to the framework's error handler`, async () => {
    const example = startExample(name, { REQUEST_TIMEOUT_MS: "300" });
    const [, url] = await example.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)\n/);

    // A user who gives up while the report is being built.
    const aborted = httpGet(`${url}/report`, (request) => {
      void example.waitFor(/\/report: started/).then(() => request.destroy());
    });
    await expect(aborted).rejects.toMatchObject({ code: "ECONNRESET" });
    await example.waitFor(/\/report: cleanup ran/);

    // The deadline passes first: a 503 then.
    expect(await httpGet(`${url}/upstream`)).toEqual({ status: 503, body: "the request timed out\n" });
    await example.waitFor(/\/upstream: cancelled/);

    // A failure goes to the framework's error handling.
    expect(await httpGet(`${url}/broken`)).toEqual({ status: 500, body: "something broke\n" });

    // Shutting down with a request in flight: the grace period, then a 503.
    const inFlight = httpGet(`${url}/report`);
    await example.waitFor(/\/report: started[\s\S]*\/report: started/);
    example.child.kill("SIGINT");
    expect(await inFlight).toEqual({ status: 503, body: "the server is shutting down\n" });
    const { code, stdout, stderr } = await example.ended;
    expect(stderr).toBe("");
    expect(code).toBe(130);
    expect(stdout.trimEnd().split("\n").slice(1)).toEqual([
      "/report: started",
      "/report: cancelled (disconnect)",
      "/report: cleanup ran",
      "/upstream: cancelled (deadline)",
      "/broken: failed: not implemented",
      "/report: started",
      "/report: cancelled (shutdown)",
      "/report: cleanup ran",
      "server: stopped",
    ]);
  }, 30_000); // starting a framework under tsx takes seconds on a busy machine
}
