import { expectEqual, triangle, type Scenario } from "../../scenario.js";

/** Channel capacity between the stages. */
export const CAPACITY = 16;
/** Transform stages between the source and the sink; each adds 1. */
export const STAGES = 4;

export default {
  title: "pipeline: source, 4 transform stages and a sink joined by channels of 16, 200,000 items",
  size: { full: 200_000, quick: 2_000, debug: 10_000 },
  headline: { kind: "time", per: 1, unit: "ns" },
  check: (n, result) => expectEqual(result, triangle(n) + STAGES * n, "sum at the sink"),
} satisfies Scenario;
