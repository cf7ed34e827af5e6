import { expectEqual, type Scenario } from "../../scenario.js";

export const HOUR = 3_600_000;

export default {
  title: "cancel-many: 10,000 tasks sleeping an hour, then cancel them all: time until every finally has run",
  size: { full: 10_000, quick: 500 },
  headline: { kind: "time", unit: "ms" },
  check: (n, result) => expectEqual(result, n, "finally blocks run"),
} satisfies Scenario;
