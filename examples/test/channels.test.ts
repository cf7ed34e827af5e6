import { expect, it } from "vitest";
import { runExample } from "./run-example.js";

it("channels.ts runs the pipeline to the end and spreads the work over the three workers", async () => {
  const { stdout, stderr } = await runExample("channels");
  const [summary, ...perWorker] = stdout.trim().split("\n");
  expect(summary).toBe("10 results, sum of squares 385");
  expect(perWorker.map((line) => line.split(":")[0])).toEqual(["worker-a", "worker-b", "worker-c"]);
  const counts = perWorker.map((line) => Number(line.match(/(\d+) values$/)?.[1]));
  expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
  for (const count of counts) expect(count).toBeGreaterThan(0);
  expect(stderr).toBe("");
});
