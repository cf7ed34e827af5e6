/**
 * http: how many requests per second a server answers, and how fast, when its
 * handler does nothing (a 200 with "hello"): the cost of the server itself.
 * The same handler under plain `node:http` (raw) and under `serveHttp`
 * (quartet: a task and a cancel scope per request; quartet-timeout: the same
 * with a `requestTimeout`, so every request also has a deadline).
 *
 * Each peer's server runs in a process of its own on core 0; autocannon, in
 * the worker's process on core 1, keeps 50 keep-alive connections busy for
 * `n` ms (after a warm-up of n/10 ms) and records each response's latency at
 * µs resolution. Every response must be a 200 with the body "hello".
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Outcome, RunningServer, Scenario } from "../../scenario.js";

/** Connections the load generator keeps busy, each with one request in flight. */
export const CONNECTIONS = 50;
/** The body every response must have. */
const BODY = "hello";

/** The handler every peer serves. */
export function hello(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/plain" });
  response.end(BODY);
}

/** What a load run found: how many responses, and how many of them were not a 200 with the right body (or failed). */
interface LoadResult {
  responses: number;
  bad: number;
}

/** The `q` quantile (0–1) of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Keeps CONNECTIONS connections busy against `server` for `ms` milliseconds.
 * Besides the rate and the latencies, measures the server's CPU time (user
 * mode) per request, which does not depend on whether the server or the load
 * generator was the bottleneck.
 */
async function load({ port, cpuTime }: RunningServer, ms: number): Promise<Outcome> {
  // Imported here, not at the top: the server processes load this module too, and need none of it.
  const { default: autocannon } = await import("autocannon");
  const cpuBefore = await cpuTime();
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let notOk = 0;
  const result = await new Promise<import("autocannon").Result>((resolve, reject) => {
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: ms / 1000, expectBody: BODY },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    // autocannon's own histogram has 1 ms resolution: keep every latency (ms, from process.hrtime) instead.
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode !== 200) notOk++;
      if (count === latencies.length) {
        const grown = new Float64Array(count * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTime;
    });
  });
  const cpuMs = (await cpuTime()) - cpuBefore;
  const sorted = latencies.subarray(0, count).sort();
  const loadResult: LoadResult = { responses: count, bad: notOk + result.mismatches + result.errors + result.timeouts };
  return {
    result: loadResult,
    metrics: {
      rps: count / (result.duration || ms / 1000),
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      "p99.9": quantile(sorted, 0.999),
      "server CPU": (cpuMs * 1000) / count,
    },
  };
}

export default {
  title: `http: a handler that answers 200 "hello", ${CONNECTIONS} keep-alive connections for 5 s (autocannon)`,
  size: { full: 5000, quick: 300 },
  headline: { kind: "metric", name: "rps", unit: "req/s", higherIsBetter: true },
  metrics: { p50: " ms", p99: " ms", "p99.9": " ms", "server CPU": " µs/req, user mode" },
  variants: { "quartet-timeout": "serveHttp with requestTimeout: 30 000 (a deadline per request)" },
  load,
  check(_n, result) {
    const { responses, bad } = result as LoadResult;
    if (responses === 0) throw new Error("http: no response at all");
    if (bad !== 0) throw new Error(`http: ${bad} of ${responses} responses were not a 200 with the body ${JSON.stringify(BODY)}, or failed`);
  },
} satisfies Scenario;
