/**
 * `pnpm --filter @quartet/bench frameworks`: requests per second of Express,
 * Fastify and Hono served by their Quartet adapters (`serveExpress`,
 * `serveFastify`, `serveHono`, with a 30 s `requestTimeout`: a task, a cancel
 * scope and a deadline per request, the handler a task) against the same app
 * served bare (`app.listen`, `@hono/node-server`'s `serve`). The handler
 * answers 200 "hello": the cost of the serving itself.
 *
 *   pnpm --filter @quartet/bench frameworks                 3 runs per peer, 3 s each (after 2 s of warm-up)
 *   pnpm --filter @quartet/bench frameworks --reps 5 --seconds 5 --warmup 3
 *   pnpm --filter @quartet/bench frameworks --only http,hono   (http: node:http against serveHttp, for reference)
 *
 * Each server runs in a process of its own on core 0, and autocannon (50
 * keep-alive connections) in this process on core 1 (as the http scenario of
 * `pnpm bench`; unpinned where there is one core or no taskset). Runs are
 * interleaved (bare, quartet, bare, quartet, …) so that a noisy neighbour
 * hits both; the report gives each peer's median and the ratio of the medians,
 * and the server's CPU time per request (from /proc), whose ratio is the
 * better measure on a machine shared with other work: the rate there follows
 * whatever else runs. It also gives the server's garbage-collection pauses per
 * request (from a PerformanceObserver in the server), which show a server whose
 * per-request objects outlive young-generation collections: that once cost an
 * adapter 30 µs per request, with scavenges of 30–40 ms.
 */
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { onCore, PINNED } from "./pinning.js";

/** "http" is the reference: plain node:http against serveHttp, in the same run. */
const FRAMEWORKS = ["http", "express", "fastify", "hono"] as const;
type Framework = (typeof FRAMEWORKS)[number];
const PEERS = ["bare", "quartet"] as const;
type Peer = (typeof PEERS)[number];
const CONNECTIONS = 50;
const BODY = "hello";

/** Starts the server of `framework` served by `peer` on a free port of 127.0.0.1; resolves with the port. */
async function serve(framework: Framework, peer: Peer): Promise<number> {
  if (framework === "http") {
    const { createServer } = await import("node:http");
    const { serveHttp } = await import("@quartet/node");
    const hello = (_request: unknown, response: import("node:http").ServerResponse) => void response.end(BODY);
    if (peer === "bare") return listening(createServer(hello).listen(0, "127.0.0.1"));
    return quartet((status) => serveHttp(hello, { port: 0, host: "127.0.0.1", requestTimeout: 30_000 }, status));
  }
  if (framework === "express") {
    const { default: express } = await import("express");
    const { asTask, serveExpress } = await import("@quartet/express");
    const app = express();
    if (peer === "bare") {
      app.get("/", (_request, response) => void response.send(BODY));
      return listening(app.listen(0, "127.0.0.1"));
    }
    app.get("/", asTask(async (_request, response) => void response.send(BODY)));
    return quartet((status) => serveExpress(app, { port: 0, host: "127.0.0.1", requestTimeout: 30_000 }, status));
  }
  if (framework === "fastify") {
    const { default: fastify } = await import("fastify");
    const { quartetRoutes, serveFastify } = await import("@quartet/fastify");
    const app = fastify();
    if (peer === "quartet") await app.register(quartetRoutes);
    app.get("/", async () => BODY);
    if (peer === "bare") {
      await app.listen({ port: 0, host: "127.0.0.1" });
      return (app.server.address() as AddressInfo).port;
    }
    return quartet((status) => serveFastify(app, { port: 0, host: "127.0.0.1", requestTimeout: 30_000 }, status));
  }
  const { Hono } = await import("hono");
  const { serve: serveNode } = await import("@hono/node-server");
  const { serveHono } = await import("@quartet/hono");
  const app = new Hono();
  app.get("/", (c) => c.text(BODY));
  if (peer === "bare") return listening(serveNode({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as import("node:http").Server);
  return quartet((status) => serveHono(app, { port: 0, host: "127.0.0.1", requestTimeout: 30_000 }, status));
}

async function listening(server: import("node:net").Server): Promise<number> {
  if (!server.listening) await new Promise((resolve) => server.once("listening", resolve));
  return (server.address() as AddressInfo).port;
}

/** Starts a Quartet server in a task group that lives as long as the process. */
async function quartet(start: (status: import("@quartet/core").TaskStatus<AddressInfo>) => Promise<never>): Promise<number> {
  const { taskGroup } = await import("@quartet/core");
  return new Promise((resolve, reject) => {
    taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>(start);
      resolve(port);
    }).catch(reject);
  });
}

/** A server's garbage-collection pauses so far: their total in ms, by kind. */
interface GcTotals {
  minorMs: number;
  majorMs: number;
}

/** In the server: adds up garbage-collection pauses, and writes the totals to stdout on SIGUSR2. */
async function reportGcOnSignal(): Promise<void> {
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  const totals: GcTotals = { minorMs: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) totals.minorMs += entry.duration;
      else totals.majorMs += entry.duration;
    }
  }).observe({ entryTypes: ["gc"] });
  // The observer is told of a pause on a later turn: answer after one, so that the last pauses are in.
  process.on("SIGUSR2", () => setTimeout(() => process.stdout.write(`${JSON.stringify(totals)}\n`), 20));
}

/** Runs one peer's server in a process of its own on core 0; resolves once it listens. */
function startServer(framework: Framework, peer: Peer): Promise<{ port: number; cpuMs(): number; gc(): Promise<GcTotals>; stop(): Promise<void> }> {
  const [command, args] = onCore(0, process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", `${framework}:${peer}`]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`the ${framework} ${peer} server closed its output`);
    return value;
  };
  return new Promise((resolve, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`the ${framework} ${peer} server exited before listening (${signal ?? code})`)));
    nextLine().then((line) => {
      resolve({
        port: JSON.parse(line).port as number,
        cpuMs: () => cpuMs(child.pid!),
        gc: () => {
          child.kill("SIGUSR2");
          return nextLine().then((totals) => JSON.parse(totals) as GcTotals);
        },
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners("exit");
            child.once("exit", () => done());
            child.kill("SIGKILL");
          }),
      });
    }, reject);
  });
}

/**
 * The CPU time (user and system) that process `pid` has used so far, in ms, from /proc (taskset execs the
 * server, so the pid is the server's). Less disturbed than the request rate by other work on the machine.
 */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
/** Linux's USER_HZ, the unit of /proc/PID/stat's times. */
const CLOCK_TICKS = 100;

/**
 * autocannon against `port` for `seconds`, after `warmup` seconds of the same load (a server's first second
 * runs code V8 has not optimized yet: it cost either peer up to a third more CPU per request): requests per
 * second, the server's CPU time and its collectors' pauses per request, after checking every response was a
 * 200 "hello".
 */
async function load(
  server: { port: number; cpuMs(): number; gc(): Promise<GcTotals> },
  seconds: number,
  warmup: number,
): Promise<{ rate: number; cpuPerRequest: number; gcPerRequest: number }> {
  const port = server.port;
  const { default: autocannon } = await import("autocannon");
  const run = (duration: number) =>
    new Promise<import("autocannon").Result>((resolve, reject) =>
      autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration, expectBody: BODY }, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
  await run(warmup);
  const gcBefore = await server.gc();
  const cpuBefore = server.cpuMs();
  const result = await run(seconds);
  const cpu = server.cpuMs() - cpuBefore;
  const gcAfter = await server.gc();
  const gc = gcAfter.minorMs + gcAfter.majorMs - gcBefore.minorMs - gcBefore.majorMs;
  const bad = result.non2xx + result.mismatches + result.errors + result.timeouts;
  if (bad !== 0 || result.requests.total === 0) throw new Error(`${bad} of ${result.requests.total} responses were not a 200 "${BODY}", or failed`);
  const requests = result.requests.total;
  return { rate: requests / (result.duration || seconds), cpuPerRequest: (cpu * 1000) / requests, gcPerRequest: (gc * 1000) / requests };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const { values: args } = parseArgs({
  options: {
    serve: { type: "string" },
    reps: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    warmup: { type: "string", default: "2" },
    only: { type: "string" },
  },
});

if (args.serve !== undefined) {
  const [framework, peer] = args.serve.split(":") as [Framework, Peer];
  process.on("SIGTERM", () => process.exit(0)); // a clean exit, for --cpu-prof
  await reportGcOnSignal();
  const port = await serve(framework, peer);
  process.stdout.write(`${JSON.stringify({ port })}\n`);
} else {
  if (PINNED) execFileSync("taskset", ["-pc", "1", String(process.pid)], { stdio: "ignore" }); // the load generator on core 1
  const frameworks = (args.only?.split(",") ?? FRAMEWORKS) as Framework[];
  for (const framework of frameworks) if (!FRAMEWORKS.includes(framework)) throw new Error(`--only: unknown ${framework}; one of ${FRAMEWORKS.join(", ")}`);
  const reps = Number(args.reps);
  const seconds = Number(args.seconds);
  const warmup = Number(args.warmup);
  console.log(
    `Node ${process.version}, ${CONNECTIONS} keep-alive connections, ${reps} runs of ${seconds} s per peer (each after ${warmup} s of warm-up), interleaved; ` +
      (PINNED ? "servers on core 0, load on core 1" : "unpinned"),
  );
  console.log(
    "| framework | bare (req/s) | quartet (req/s) | quartet / bare | runs (bare; quartet) | server CPU µs/req (bare; quartet) | bare / quartet, by CPU | GC pauses µs/req (bare; quartet) |",
  );
  console.log("| --- | ---: | ---: | ---: | --- | --- | ---: | --- |");
  for (const framework of frameworks) {
    const rates: Record<Peer, number[]> = { bare: [], quartet: [] };
    const costs: Record<Peer, number[]> = { bare: [], quartet: [] };
    const pauses: Record<Peer, number[]> = { bare: [], quartet: [] };
    for (let rep = 0; rep < reps; rep++) {
      for (const peer of PEERS) {
        const server = await startServer(framework, peer);
        try {
          const { rate, cpuPerRequest, gcPerRequest } = await load(server, seconds, warmup);
          rates[peer].push(rate);
          costs[peer].push(cpuPerRequest);
          pauses[peer].push(gcPerRequest);
        } finally {
          await server.stop();
        }
      }
    }
    const bare = median(rates.bare);
    const quartet = median(rates.quartet);
    const runs = (peer: Peer) => rates[peer].map((rate) => Math.round(rate)).join(", ");
    const bareCost = median(costs.bare);
    const quartetCost = median(costs.quartet);
    console.log(
      `| ${framework} | ${Math.round(bare)} | ${Math.round(quartet)} | ${(quartet / bare).toFixed(2)}× | ${runs("bare")}; ${runs("quartet")} ` +
        `| ${bareCost.toFixed(0)}; ${quartetCost.toFixed(0)} | ${(bareCost / quartetCost).toFixed(2)}× ` +
        `| ${median(pauses.bare).toFixed(1)}; ${median(pauses.quartet).toFixed(1)} |`,
    );
  }
}
