// The programs of docs/everyday-patterns.md, run as a user would, with their output checked.
import { expect, it } from "vitest";
import { runExample } from "./run-example.js";

it("fetch-many.ts fetches every page of a local API in order, 8 at a time under a rate limit, retrying each 503 once", async () => {
  const { stdout, stderr } = await runExample("fetch-many", ["60"]);
  expect(stderr).toBe("");
  const [fetched, requests, ...rest] = stdout.trimEnd().split("\n");
  expect(rest).toEqual([]);
  const [, seconds] = fetched!.match(/^fetched 60 pages in (\d+\.\d\d) s, in order: true$/)!;
  // 72 requests at 200 a second with a burst of 10 take at least (72 - 10) / 200 s: the limiter held them back.
  expect(Number(seconds)).toBeGreaterThanOrEqual(0.3);
  const [, inFlight] = requests!.match(/^72 requests \(12 retried 503s\), at most (\d) in flight$/)!;
  expect(Number(inFlight)).toBeLessThanOrEqual(8);
  expect(Number(inFlight)).toBeGreaterThan(1);
});

it("worker-pool.ts hashes every job in a pool of 4; the tally sees every result, in batches; progress reports along the way", async () => {
  const { stdout, stderr } = await runExample("worker-pool", ["1000"]);
  expect(stderr).toBe("");
  const lines = stdout.trimEnd().split("\n");
  const tally = lines.find((line) => line.startsWith("tally:"))!;
  const [, batches] = tally.match(/^tally: 1000 results saved in (\d+) batches$/)!;
  expect(Number(batches)).toBeGreaterThan(1);
  expect(Number(batches)).toBeLessThan(1000); // receiveMany took more than one result at a time
  const progress = lines.filter((line) => line.startsWith("progress:"));
  expect(progress.length).toBeGreaterThan(0);
  for (const line of progress) expect(line).toMatch(/^progress: job \d+ done$/);
  expect(lines).toHaveLength(progress.length + 1);
});
