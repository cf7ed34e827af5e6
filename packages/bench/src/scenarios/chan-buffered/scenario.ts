import { expectEqual, triangle, type Scenario } from "../../scenario.js";

/** The channel's capacity in this scenario. */
export const CAPACITY = 1024;

export default {
  title: "chan-buffered: 1,000,000 numbers through a channel of 1024, one producer, one consumer",
  size: { full: 1_000_000, quick: 5_000, peers: { effection: 300_000 }, debug: 50_000 },
  headline: { kind: "time", per: 1, unit: "ns" },
  check: (n, result) => expectEqual(result, triangle(n), "sum received"),
} satisfies Scenario;
