/**
 * `pnpm --filter @quartet/bench instructions`: CPU instructions per item of
 * the time scenarios, counted by valgrind, for each peer: a measure that does
 * not move with the machine's load (a timed run on a shared two-core machine
 * moves by 10–30% between runs). They are not exact either: V8 runs some of
 * its garbage collector's work from delayed tasks, which land at other points
 * under valgrind's slowdown, so two counts of the same build can differ by up
 * to ~10% per item; repeat a run before trusting a difference that small.
 *
 *   pnpm --filter @quartet/bench instructions                     every time scenario, raw and quartet, on Node 24
 *   pnpm --filter @quartet/bench instructions --only a,b --peers raw,quartet,effect
 *   pnpm --filter @quartet/bench instructions --baseline DIR      quartet also as of another checkout (see bench.ts)
 *   pnpm --filter @quartet/bench instructions --node PATH --n 20000
 *   pnpm --filter @quartet/bench instructions --jobs 2             two valgrind runs at a time (counts do not depend on load)
 *
 * Each peer runs twice under `valgrind --tool=cachegrind`, with a measured
 * pass of n and of 2n items after the same warm-up; the difference, divided
 * by n, is the instructions per item, with every constant cost (start-up,
 * compilation, the warm-up) taken out. Node runs with `--single-threaded`, so
 * that the garbage collector's work lands in the count the same way each
 * time. Each peer is counted a second time with a young generation large
 * enough that no scavenge runs ("no GC"): the difference between the two is
 * what collecting the young generation costs per item.
 *
 * Instructions are not time: they do not see cache misses or memory traffic,
 * so a ratio of instructions can be smaller than the ratio of times that
 * `pnpm bench` reports. They say where the work is, and whether a change
 * removed some. Needs valgrind (`apt-get install valgrind`); not run in CI.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { map } from "@quartet/core";
import { bundleWorker, fromBaseline } from "./bundle.js";
import { PEERS, type Scenario } from "./scenario.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../../..");
/** Items per counted pass (and in the warm-up), unless the scenario's full size is smaller or --n says otherwise. */
const DEFAULT_N = 20_000;
/** A semi-space (MB) big enough that the runs above never fill the young generation. */
const NO_SCAVENGE_MB = 512;

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    peers: { type: "string" },
    node: { type: "string" },
    n: { type: "string" },
    baseline: { type: "string" },
    jobs: { type: "string" },
  },
});
const peers = (args.peers ?? "raw,quartet").split(",").filter(Boolean);
for (const peer of peers) if (!(PEERS as readonly string[]).includes(peer)) throw new Error(`--peers: unknown ${JSON.stringify(peer)}; one of ${PEERS.join(", ")}`);
const nodePath = args.node ?? join(root, "tools/runtimes/node_modules/node/bin/node");
if (!existsSync(nodePath)) throw new Error(`no Node at ${nodePath}: pass --node PATH (Node 24 is installed by pnpm install at tools/runtimes)`);
const baseline = args.baseline === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), args.baseline);
if (baseline !== undefined && !existsSync(join(baseline, "packages/core/src/index.ts"))) {
  throw new Error(`--baseline ${args.baseline}: no packages/core/src/index.ts there`);
}
try {
  execFileSync("valgrind", ["--version"], { stdio: "ignore" });
} catch {
  throw new Error("valgrind is not installed (apt-get install valgrind)");
}

const bundleDir = mkdtempSync(join(tmpdir(), "quartet-instructions-"));
process.on("exit", () => rmSync(bundleDir, { recursive: true, force: true }));
const columns: Array<{ column: string; peer: string; bundle: string }> = [];
const workerBundle = await bundleWorker(join(bundleDir, "worker.mjs"));
for (const peer of peers) columns.push({ column: peer, peer, bundle: workerBundle });
if (baseline !== undefined) {
  columns.push({ column: "quartet (baseline)", peer: "quartet", bundle: await bundleWorker(join(bundleDir, "baseline.mjs"), [fromBaseline(baseline)]) });
}

/** Instructions valgrind counted for one run of the worker (its summary is on stderr). */
async function instructions(bundle: string, scenario: string, peer: string, n: number, warmup: number, flags: string[]): Promise<number> {
  const valgrind = ["--tool=cachegrind", "--cache-sim=no", "--smc-check=all", "--cachegrind-out-file=/dev/null"];
  const node = ["--single-threaded", "--expose-gc", ...flags, bundle, scenario, peer, String(n), String(warmup)];
  const child = spawn("valgrind", [...valgrind, nodePath, ...node], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const status = await new Promise<number | null>((resolve, reject) => child.once("error", reject).once("close", resolve));
  const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr);
  if (status !== 0 || refs === null) throw new Error(`${scenario} ${peer} (n = ${n}) failed under valgrind:\n${stderr.slice(-2000)}`);
  return Number(refs[1]!.replaceAll(",", ""));
}

const noScavenge = [`--max-semi-space-size=${NO_SCAVENGE_MB}`, `--min-semi-space-size=${NO_SCAVENGE_MB}`];
const jobs = Number(args.jobs ?? 1);
if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a positive integer; got ${args.jobs}`);
if (args.n !== undefined && !(Number.isInteger(Number(args.n)) && Number(args.n) > 0)) throw new Error(`--n must be a positive integer; got ${args.n}`);
const rows: string[] = [];
const header = columns.flatMap(({ column }) => [column, `${column}, no GC`]);
const ratioColumns = columns.filter(({ column }) => column !== "raw" && peers.includes("raw"));
for (const scenario of readdirSync(join(here, "scenarios")).sort()) {
  if (args.only !== undefined && !args.only.split(",").includes(scenario)) continue;
  const meta: Scenario = (await import(`./scenarios/${scenario}/scenario.js`)).default;
  if (meta.headline.kind !== "time" || meta.load !== undefined) continue; // memory, servers and programs are measured by pnpm bench
  const n = Number(args.n ?? Math.min(meta.size.full, DEFAULT_N));
  const present = columns.filter(({ peer }) => existsSync(join(here, "scenarios", scenario, `${peer}.ts`)));
  // Runs of n and of 2n items after the same warm-up (n: long enough that the hot paths are
  // optimized before either counted pass), with and without scavenges; the difference over n.
  const runs = present.flatMap(({ column, peer, bundle }) =>
    [[], noScavenge].flatMap((flags, gcOff) => [n, 2 * n].map((size) => ({ column, gcOff, size, run: () => instructions(bundle, scenario, peer, size, n, flags) }))),
  );
  const counted = await map(runs, ({ run }) => run(), { concurrency: jobs });
  const counts = new Map<string, [number, number]>();
  for (const { column } of present) {
    const per = (gcOff: number): number => {
      const of = (size: number): number => counted[runs.findIndex((r) => r.column === column && r.gcOff === gcOff && r.size === size)]!;
      return (of(2 * n) - of(n)) / n;
    };
    counts.set(column, [per(0), per(1)]);
    console.error(`${scenario} ${column}: ${Math.round(per(0))} instructions per item, ${Math.round(per(1))} without GC`);
  }
  const cell = (value: number | undefined): string => (value === undefined ? "–" : Math.round(value).toLocaleString("en-US"));
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined ? "–" : `${(a / b).toFixed(2)}×`);
  const raw = counts.get("raw");
  const cells = columns.flatMap(({ column }) => counts.get(column)?.map(cell) ?? ["–", "–"]);
  const ratios = ratioColumns.flatMap(({ column }) => [ratio(counts.get(column)?.[0], raw?.[0]), ratio(counts.get(column)?.[1], raw?.[1])]);
  rows.push(`| ${scenario} | ${n.toLocaleString("en-US")} | ${[...cells, ...ratios].join(" | ")} |`);
}
const version = execFileSync(nodePath, ["--version"], { encoding: "utf8" }).trim();
const ratioHeader = ratioColumns.flatMap(({ column }) => [`${column} / raw`, `${column} / raw, no GC`]);
console.log(`Instructions per item (valgrind), Node ${version}:\n`);
console.log(`| scenario | n | ${[...header, ...ratioHeader].join(" | ")} |`);
console.log(`| --- | ---: | ${[...header, ...ratioHeader].map(() => "---:").join(" | ")} |`);
for (const row of rows) console.log(row);
