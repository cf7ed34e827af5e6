/**
 * Runs one peer of one scenario in this (fresh) process: a warm-up pass (of
 * size `warmup`, enough to compile the hot paths), a full garbage collection,
 * then the measured pass of size `n`. Checks both results and prints one JSON
 * line: { ms, metrics, note }.
 *
 * Usage (bench.ts bundles it first): node --expose-gc worker.mjs <scenario> <peer> <n> [warmup]
 *
 * With QUARTET_BENCH_INSTRUMENT=1 a Quartet instrument that does nothing, with
 * every method, is installed first (the cost of an installed instrument);
 * QUARTET_DEBUG=1 turns Quartet's debugging on as for any program.
 */
import type { Meter, Outcome, Peer, Scenario } from "./scenario.js";

const [scenarioName, peerName, size, warmupSize] = process.argv.slice(2);
const n = Number(size);
const warmup = Number(warmupSize ?? size);
const gc = (globalThis as { gc?: () => void }).gc;
if (!scenarioName || !peerName || !Number.isInteger(n) || gc === undefined) {
  throw new Error("usage: node --expose-gc --import tsx worker.ts <scenario> <peer> <n>");
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
  });
}

const scenario: Scenario = (await import(`./scenarios/${scenarioName}/scenario.ts`)).default;
const peer: Peer = (await import(`./scenarios/${scenarioName}/${peerName}.ts`)).default;

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

async function once(size: number): Promise<{ ms: number; outcome: Outcome }> {
  const meter = makeMeter();
  const outcome = await peer(size, meter);
  const ms = meter.elapsed();
  scenario.check(size, outcome.result);
  return { ms, outcome };
}

await once(warmup); // warm-up: compile the hot paths
gc();
await new Promise((resolve) => setImmediate(resolve));
const { ms, outcome } = await once(n);
process.stdout.write(`${JSON.stringify({ ms, metrics: outcome.metrics ?? {}, note: outcome.note ?? null })}\n`);
