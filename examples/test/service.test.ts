import { expect, it } from "vitest";
import { httpGet } from "./http-get.js";
import { startExample } from "./run-example.js";

it("service.ts serves as soon as start() returns, its client uses it, and SIGINT shuts both down cleanly with exit code 130", async () => {
  const example = startExample("service");
  const [, url] = await example.waitFor(/service: listening on (http:\/\/127\.0\.0\.1:\d+) \(press Ctrl-C to stop\)\n/);
  // Another user of the service: this test.
  const reply = await httpGet(`${url}/?name=test`);
  expect(reply.status).toBe(200);
  expect(reply.body).toMatch(/^hello, test \(visit \d+\)\n$/);
  await example.waitFor(/client: hello, client \(visit \d+\)\n[\s\S]*client: hello, client \(visit \d+\)\n/);

  example.child.kill("SIGINT");
  const { code, stdout, stderr } = await example.ended;
  expect(stderr).toBe("");
  expect(code).toBe(130);
  const lines = stdout.trimEnd().split("\n");
  expect(lines[0]).toBe(`service: listening on ${url} (press Ctrl-C to stop)`);
  // After the signal: the client and the service each ran their cleanup (in either order), then main's.
  expect(lines.at(-1)).toBe("main: shut down cleanly");
  expect(lines.slice(-3, -1)).toEqual(expect.arrayContaining(["client: stopped", expect.stringMatching(/^service: stopped after \d+ visits$/)]));
  const visits = Number(lines.find((line) => line.startsWith("service: stopped"))!.match(/after (\d+) visits/)![1]);
  const clientVisits = lines.filter((line) => line.startsWith("client: hello")).length;
  // Every visit was counted: the client's, the test's, and perhaps one whose answer the client was cancelled before printing.
  expect(visits - clientVisits).toBeGreaterThanOrEqual(1);
  expect(visits - clientVisits).toBeLessThanOrEqual(2);
});
