import { expectEqual, triangle, type Scenario } from "../../scenario.js";

export default {
  title: "spawn-join-await: start 100,000 tasks that each await once, in one group, and wait for all",
  size: { full: 100_000, quick: 2_000 },
  headline: { kind: "time", per: 1, unit: "ns" },
  check: (n, result) => expectEqual(result, triangle(n), "sum of task results"),
} satisfies Scenario;
