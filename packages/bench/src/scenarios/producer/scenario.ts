import { expectEqual, triangle, type Scenario } from "../../scenario.js";

export default {
  title: "producer: 1,000,000 values from a lazy producer to its consumer (raw: an async generator)",
  size: { full: 1_000_000, quick: 5_000, peers: { effection: 200_000 }, debug: 50_000 },
  headline: { kind: "time", per: 1, unit: "ns" },
  check: (n, result) => expectEqual(result, triangle(n), "sum consumed"),
} satisfies Scenario;
