import { expectEqual, triangle, type Scenario } from "../../scenario.js";

export const CAPACITY = 16;
export const WORKERS = 8;

/** How unevenly the items spread: (most - fewest) / mean, over the workers' counts. */
export function spread(counts: number[]): number {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return (Math.max(...counts) - Math.min(...counts)) / mean;
}

export default {
  title: "fan-out: one producer, 8 workers on one channel of 16, 200,000 items",
  size: { full: 200_000, quick: 2_000, debug: 10_000 },
  headline: { kind: "time", per: 1, unit: "ns" },
  metrics: { spread: "%" },
  check: (n, result) => expectEqual(result, triangle(n), "sum over all workers"),
} satisfies Scenario;
