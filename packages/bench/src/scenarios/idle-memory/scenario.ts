import { expectEqual, type Scenario } from "../../scenario.js";

export default {
  title: "idle-memory: heap bytes per task blocked on an event (10,000 tasks)",
  size: { full: 10_000, quick: 500 },
  headline: { kind: "metric", name: "bytesPerTask", unit: "B" },
  check: (n, result) => expectEqual(result, n, "tasks woken"),
} satisfies Scenario;
