import { expectEqual, triangle, type Scenario } from "../../scenario.js";

export const TIMEOUT = 10_000;

export default {
  title: "timeouts: 100,000 scopes with a 10 s timeout that never fires, one after another: cost per scope",
  size: { full: 100_000, quick: 2_000, peers: { effection: 5_000 } },
  headline: { kind: "time", per: 1, unit: "ns" },
  check: (n, result) => expectEqual(result, triangle(n), "sum of the bodies' results"),
} satisfies Scenario;
