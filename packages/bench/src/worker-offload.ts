/**
 * `pnpm --filter @quartet/bench workers`: what worker threads cost and give.
 *
 * 1. Overhead per call: N calls of a trivial function (`n => n + 1`), one at
 *    a time and two at a time, through `runInWorker` (an `openWorkerPool` of 2
 *    threads) and through piscina used directly (2 threads, its defaults).
 * 2. A CPU-bound fan-out stage: the SHA-256 of 100,000 items of 4 KB, on the
 *    main thread; through `runInWorker` one item per call and in batches
 *    (`forEach(batches, …, { concurrency: 2 })`); and as two pipeline stages
 *    in workers fed over port channels (`sendChannelOverPort`).
 *
 * Runs against the built packages (`pnpm build` first): the script clears
 * NODE_OPTIONS' quartet-source condition, so the threads load dist/ as users'
 * do. Each measurement alternates the peers and reports the median of `--reps`
 * (default 5) rounds. `--quick` runs small sizes once, as a check; `--only
 * overhead` or `--only fan-out` runs one of the two.
 *
 *   pnpm build && pnpm --filter @quartet/bench workers [--quick] [--reps N] [--only overhead|fan-out]
 */
import { createHash } from "node:crypto";
import { availableParallelism, cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { forEach, taskGroup } from "@quartet/core";
import { openWorkerPool, receiveChannelOverPort, runInWorker, sendChannelOverPort, type WorkerPool } from "@quartet/node";

const { values: args } = parseArgs({ options: { quick: { type: "boolean", default: false }, reps: { type: "string" }, only: { type: "string" } } });
const only = args.only; // "overhead" or "fan-out"
const quick = args.quick;
const reps = quick ? 1 : Number(args.reps ?? 5);
const CALLS = quick ? 200 : 5000;
const ITEMS = quick ? 2000 : 100_000;
const ITEM_SIZE = 4096;
const BATCH = 1000;
const THREADS = 2;

const module = (name: string) => new URL(`worker-modules/${name}.mjs`, import.meta.url);

/** Item `i`: 4 KB, different for every i, made on demand (100,000 of them would be 400 MB). */
function item(i: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(ITEM_SIZE);
  for (let j = 0; j < ITEM_SIZE; j += 4) bytes[j] = (i * 31 + j) & 0xff;
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
}

function* batches(): Generator<Uint8Array<ArrayBuffer>[]> {
  for (let start = 0; start < ITEMS; start += BATCH) {
    yield Array.from({ length: Math.min(BATCH, ITEMS - start) }, (_, k) => item(start + k));
  }
}

/** A checksum of the digests, so that every peer is seen to do the same work. */
function fold(digests: Iterable<string>): string {
  const hash = createHash("sha256");
  for (const digest of digests) hash.update(digest);
  return hash.digest("hex").slice(0, 12);
}

// ------------------------------------------------------------------- the peers

type Peer = () => Promise<string>;

function overheadPeers(pool: WorkerPool, piscina: Piscina): Record<string, Peer> {
  const sequential = (call: (n: number) => Promise<number>) => async () => {
    let sum = 0;
    for (let i = 0; i < CALLS; i++) sum += await call(i);
    return String(sum);
  };
  const twoAtATime = (call: (n: number) => Promise<number>) => async () => {
    let sum = 0;
    await forEach(Array.from({ length: CALLS }, (_, i) => i), async (i) => {
      const result = await call(i); // (not `sum += await …`: that reads sum before waiting)
      sum += result;
    }, { concurrency: THREADS });
    return String(sum);
  };
  const quartet = (n: number) => runInWorker<number>(module("trivial"), n, { pool });
  const direct = (n: number) => piscina.run(n) as Promise<number>;
  return {
    "piscina, one at a time": sequential(direct),
    "runInWorker, one at a time": sequential(quartet),
    "piscina, two at a time": twoAtATime(direct),
    "runInWorker, two at a time": twoAtATime(quartet),
  };
}

function hashPeers(pool: WorkerPool): Record<string, Peer> {
  return {
    "main thread": async () => {
      const digests: string[] = [];
      for (const batch of batches()) for (const bytes of batch) digests.push(createHash("sha256").update(bytes).digest("hex"));
      return fold(digests);
    },
    "runInWorker per item": async () => {
      const digests = new Array<string>(ITEMS);
      const indices = (function* () {
        for (let i = 0; i < ITEMS; i++) yield i;
      })();
      await forEach(indices, async (i) => {
        const bytes = item(i);
        const [digest] = await runInWorker<string[]>(module("hash-batch"), [bytes], { pool, transferList: [bytes.buffer] });
        digests[i] = digest!;
      }, { concurrency: THREADS * 2 });
      return fold(digests);
    },
    "runInWorker per batch of 1000": async () => {
      const results: string[][] = [];
      let index = 0;
      await forEach(batches(), async (batch) => {
        const at = index++;
        results[at] = await runInWorker<string[]>(module("hash-batch"), batch, { pool, transferList: batch.map((bytes) => bytes.buffer) });
      }, { concurrency: THREADS * 2 });
      return fold(results.flat());
    },
    "2 worker stages over port channels": async () => {
      // Batches are dealt to the two stages in turn; each stage's digests come back in order on its own channel.
      const stages = Array.from({ length: THREADS }, () => ({ in: new MessageChannel(), out: new MessageChannel() }));
      const perStage: string[][][] = stages.map(() => []);
      await taskGroup(async (tg) => {
        for (const stage of stages) {
          tg.spawn(() =>
            runInWorker(module("hash-stage"), { input: stage.in.port2, output: stage.out.port1 }, { pool, transferList: [stage.in.port2, stage.out.port1] }),
          );
        }
        stages.forEach((stage, s) => {
          tg.spawn(async () => {
            const digests = receiveChannelOverPort<string[]>(stage.out.port2);
            try {
              for await (const batch of digests) perStage[s]!.push(batch);
            } finally {
              digests.close();
            }
          });
        });
        const senders = stages.map((stage) => sendChannelOverPort<Uint8Array<ArrayBuffer>[]>(stage.in.port1, { bufferSize: 2, transfer: (batch) => batch.map((bytes) => bytes.buffer) }));
        let turn = 0;
        for (const batch of batches()) await senders[turn++ % THREADS]!.send(batch);
        for (const sender of senders) sender.close();
      });
      const inOrder: string[][] = [];
      for (let b = 0; b < perStage.flat().length; b++) inOrder.push(perStage[b % THREADS]![Math.floor(b / THREADS)]!);
      return fold(inOrder.flat());
    },
  };
}

// ------------------------------------------------------------------- measuring

async function measure(title: string, peers: Record<string, Peer>, unit: (ms: number) => string): Promise<void> {
  const names = Object.keys(peers);
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  const checks = new Map<string, string>();
  for (let rep = 0; rep < reps + 1; rep++) {
    for (const name of rep % 2 === 0 ? names : [...names].reverse()) {
      const start = performance.now();
      const check = await peers[name]!();
      const ms = performance.now() - start;
      if (rep > 0 || quick) times.get(name)!.push(ms); // round 0 warms up (threads started, modules loaded)
      if (checks.has(name) && checks.get(name) !== check) throw new Error(`${name}: a different result in round ${rep}`);
      checks.set(name, check);
    }
  }
  if (new Set(checks.values()).size !== 1) throw new Error(`${title}: the peers disagree: ${JSON.stringify(Object.fromEntries(checks))}`);
  console.log(`\n${title}\n`);
  console.log("| peer | median | per unit | rounds (ms) |");
  console.log("|---|---:|---:|---|");
  for (const name of names) {
    const sorted = [...times.get(name)!].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`| ${name} | ${median.toFixed(0)} ms | ${unit(median)} | ${times.get(name)!.map((ms) => ms.toFixed(0)).join(", ")} |`);
  }
}

console.log(`Node ${process.version}, ${cpus()[0]?.model ?? "?"} × ${availableParallelism()}, load ${loadavg().map((l) => l.toFixed(1)).join(" ")}; ${reps} rounds after a warm-up`);
if (only === undefined || only === "overhead") {
  await using pool = openWorkerPool({ maxThreads: THREADS });
  await using piscina = new Piscina({ filename: module("trivial").href, minThreads: THREADS, maxThreads: THREADS });
  await measure(`Overhead: ${CALLS} calls of n => n + 1 on ${THREADS} threads`, overheadPeers(pool, piscina), (ms) => `${((ms * 1000) / CALLS).toFixed(1)} µs/call`);
}
if (only === undefined || only === "fan-out") {
  await using pool = openWorkerPool({ maxThreads: THREADS });
  await measure(`Fan-out: SHA-256 of ${ITEMS} items of ${ITEM_SIZE / 1024} KB, ${THREADS} threads`, hashPeers(pool), (ms) => `${((ITEMS / ms) * 1000).toFixed(0)} items/s`);
}
