import { expect, it } from "vitest";
import { runExample } from "./run-example.js";

it("hello.ts starts the service, uses it, times out a slow request and shuts down cleanly, in that order", async () => {
  const { stdout, stderr } = await runExample("hello");
  const lines = stdout.trim().split("\n");
  expect(lines).toEqual([
    expect.stringMatching(/^service: listening on 127\.0\.0\.1:\d+$/),
    expect.stringMatching(/^main: the service is ready on port \d+$/),
    'worker: got "hello from the service, you asked for /greeting"',
    "worker: asking for /slow, willing to wait 200 ms",
    "worker: gave up on /slow after 200 ms (the request was aborted)",
    "main: work done, shutting down",
    "service: closed",
    "main: clean shutdown",
  ]);
  expect(stderr).toBe("");
});
