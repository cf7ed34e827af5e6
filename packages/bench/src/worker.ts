/**
 * Runs one peer of one scenario in this (fresh) process: a warm-up pass (of
 * size `warmup`, enough to compile the hot paths), a full garbage collection,
 * then the measured pass of size `n`. Checks both results and prints one JSON
 * line: { ms, metrics, note }.
 *
 * Usage (bench.ts bundles it first): node --expose-gc worker.mjs <scenario> <peer> <n> [warmup]
 *
 * For a server scenario (one with `load`), this process is the load
 * generator: it first starts the peer's server in a process of its own
 * (`worker.mjs <scenario> <peer> serve`, on core 0; bench.ts runs this one on
 * core 1), drives it through both passes, then stops it. Extra Node flags for
 * the server process (to profile it: `--cpu-prof --cpu-prof-dir=DIR`) come
 * from QUARTET_BENCH_SERVER_FLAGS; the server exits cleanly on SIGTERM, so
 * that a profile is written.
 *
 * With QUARTET_BENCH_INSTRUMENT=1 a Quartet instrument that does nothing, with
 * every method, is installed first (the cost of an installed instrument); with
 * QUARTET_BENCH_INSTRUMENT=opentelemetry, `traceToOpenTelemetry()` of
 * @quartet/opentelemetry, on the real SDK with the AsyncLocalStorage context
 * manager, every span recorded and dropped when it ends (the cost of tracing
 * without the cost of an exporter);
 * QUARTET_DEBUG=1 turns Quartet's debugging on as for any program.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { onCore } from "./pinning.js";
import type { Meter, Outcome, Peer, RunningServer, Scenario, ServerPeer } from "./scenario.js";

const [scenarioName, peerName, size, warmupSize] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!scenarioName || !peerName || !size) {
  throw new Error("usage: node --expose-gc worker.mjs <scenario> <peer> <n> [warmup] | <scenario> <peer> serve");
}

if (process.env.QUARTET_BENCH_INSTRUMENT === "1") {
  // Looked up by name: a baseline checkout (bench.ts --baseline) may not have instruments, and only plain mode runs it.
  const lowlevel: Record<string, unknown> = await import("@quartet/core/lowlevel");
  const addInstrument = lowlevel["addInstrument"] as ((instrument: object) => () => void) | undefined;
  if (addInstrument === undefined) throw new Error("QUARTET_BENCH_INSTRUMENT=1: this @quartet/core has no addInstrument()");
  const nothing = (): void => {};
  addInstrument({
    taskSpawned: nothing,
    taskStarted: nothing,
    taskExited: nothing,
    taskBlocked: nothing,
    taskUnblocked: nothing,
    scopeEntered: nothing,
    scopeCancelled: nothing,
    scopeExited: nothing,
    wrapTask: (_task: unknown, enter: () => void) => enter(),
    wrapScope: (_scope: unknown, enter: () => void) => enter(),
  });
} else if (process.env.QUARTET_BENCH_INSTRUMENT === "opentelemetry") {
  const { traceOpenTelemetry } = await import("./opentelemetry.js");
  traceOpenTelemetry();
}

const scenario: Scenario = (await import(`./scenarios/${scenarioName}/scenario.ts`)).default;
const peerModule: { default: unknown } = await import(`./scenarios/${scenarioName}/${peerName}.ts`);

if (size === "serve") await serve(peerModule.default as ServerPeer);
else await measure();

/**
 * Server mode: runs the peer's server until SIGTERM; prints `{ port }` once it
 * listens, and answers "cpu" on the IPC channel with the CPU time it has spent
 * in user mode so far, in ms.
 */
async function serve(server: ServerPeer): Promise<void> {
  process.on("SIGTERM", () => process.exit(0));
  process.on("message", (message) => {
    if (message !== "cpu") return;
    process.send!(process.cpuUsage().user / 1000);
  });
  await server((port) => process.stdout.write(`${JSON.stringify({ port })}\n`));
}

/** Starts the peer's server in a process of its own, on core 0, and waits until it listens. */
async function startServer(): Promise<RunningServer & { stop(): Promise<void> }> {
  const flags = (process.env.QUARTET_BENCH_SERVER_FLAGS ?? "").split(" ").filter(Boolean);
  const [command, args] = onCore(0, process.execPath, [...flags, process.argv[1]!, scenarioName!, peerName!, "serve"]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => reject(new Error(`the ${peerName} server exited before listening (${signal ?? code})`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  child.channel?.unref(); // the IPC channel must not keep this process alive
  return {
    port,
    cpuTime: () =>
      new Promise<number>((resolve) => {
        child.once("message", (ms) => resolve(ms as number));
        child.send("cpu");
      }),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function makeMeter(): Meter & { elapsed(): number } {
  let started = performance.now();
  let stopped: number | undefined;
  return {
    start: () => void (started = performance.now()),
    stop: () => void (stopped = performance.now()),
    heapUsed: () => {
      gc!();
      gc!();
      return process.memoryUsage().heapUsed;
    },
    elapsed: () => (stopped ?? performance.now()) - started,
  };
}

/** Measuring mode: the warm-up pass, then the measured one; prints the result line. */
async function measure(): Promise<void> {
  const n = Number(size);
  const warmup = Number(warmupSize ?? size);
  if (!Number.isInteger(n) || !Number.isInteger(warmup) || gc === undefined) {
    throw new Error("usage: node --expose-gc worker.mjs <scenario> <peer> <n> [warmup]");
  }
  const server = scenario.load === undefined ? null : await startServer();
  const peer: Peer = server === null ? (peerModule.default as Peer) : (n) => scenario.load!(server, n);
  async function once(size: number): Promise<{ ms: number; outcome: Outcome }> {
    const meter = makeMeter();
    const outcome = await peer(size, meter);
    const ms = meter.elapsed();
    scenario.check(size, outcome.result);
    return { ms, outcome };
  }
  try {
    await once(warmup); // warm-up: compile the hot paths
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
    const { ms, outcome } = await once(n);
    process.stdout.write(`${JSON.stringify({ ms, metrics: outcome.metrics ?? {}, note: outcome.note ?? null })}\n`);
  } finally {
    await server?.stop();
  }
}
