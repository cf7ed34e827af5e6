import { expectEqual, type Scenario } from "../../scenario.js";

export default {
  title: "receive-memory: heap bytes per task blocked in a channel receive() (10,000 tasks, one unbuffered channel)",
  size: { full: 10_000, quick: 500 },
  headline: { kind: "metric", name: "bytesPerTask", unit: "B" },
  check: (n, result) => expectEqual(result, (n * (n - 1)) / 2, "sum of the values received"),
} satisfies Scenario;
