/**
 * `pnpm bench`: runs every scenario for every peer, each run in a fresh
 * process, repetitions interleaved across peers, on the machine's Node and on
 * Node 24; reports medians and ratios to raw.
 *
 *   pnpm bench                 full sizes, 5 repetitions, writes packages/bench/results/performance.md (untracked)
 *   pnpm bench --write-docs    the same, and updates the tables of docs/performance.md (keeping its analysis)
 *   pnpm bench --out FILE      writes the report to FILE instead
 *   pnpm bench --quick         small sizes, one repetition, checks every result; writes nothing
 *   pnpm bench --only a,b      only these scenarios
 *   pnpm bench --reps 3        repetitions per peer
 *   pnpm bench --node PATH     run on this Node only (repeatable)
 *   pnpm bench --peers a,b     only these peers (raw, quartet, effection, effect; a scenario's variants
 *                              such as quartet-batched go with the peer their name starts with)
 *
 * The cost of Quartet's diagnostics: each mode is one more column, interleaved with the others.
 *
 *   pnpm bench --quartet-modes plain,debug,instrument,opentelemetry
 *                              quartet also with debugging on (QUARTET_DEBUG=1), with a no-op
 *                              instrument installed (every method), and with traceToOpenTelemetry()
 *                              on (a span per task, group and named scope, made by the real SDK and
 *                              dropped at its end), next to plain quartet
 *   pnpm bench --baseline DIR  quartet also as of another checkout of the repository (its
 *                              packages/core/src, and packages/node/src if there is one), e.g.
 *                              `git archive <commit> packages/core packages/node | tar -x -C DIR`
 *
 * Server scenarios (`http`) run each peer's server in a process of its own
 * on core 0 and the load generator (the worker) on core 1; scenarios with
 * variants (`http`, `file-pipeline`) are reported in a table of their own,
 * a row per peer. See scenario.ts.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleWorker, fromBaseline } from "./bundle.js";
import { onCore, PINNED } from "./pinning.js";
import { PEERS, type PeerName, type Scenario } from "./scenario.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../../..");
/** How the quartet peer can run besides plainly: the cost of its diagnostics. */
const MODES = ["plain", "debug", "instrument", "opentelemetry"] as const;
type Mode = (typeof MODES)[number];
/** A column of the report: a peer (or a scenario's variant), run in a mode or from a baseline checkout. */
type Column = string;
const COLUMN_OF_MODE: Record<Mode, Column> = {
  plain: "quartet",
  debug: "quartet (debug)",
  instrument: "quartet (instrumented)",
  opentelemetry: "quartet (opentelemetry)",
};
/** The environment that sets each mode in the worker. */
const ENV_OF_MODE: Record<Mode, Record<string, string>> = {
  plain: {},
  debug: { QUARTET_DEBUG: "1" },
  instrument: { QUARTET_BENCH_INSTRUMENT: "1" },
  opentelemetry: { QUARTET_BENCH_INSTRUMENT: "opentelemetry" },
};

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    reps: { type: "string" },
    only: { type: "string" },
    node: { type: "string", multiple: true },
    out: { type: "string" },
    "write-docs": { type: "boolean", default: false },
    peers: { type: "string" },
    "quartet-modes": { type: "string" },
    baseline: { type: "string" },
  },
});
function listOption<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(",").filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`--${what}: unknown ${JSON.stringify(item)}; one of ${allowed.join(", ")}`);
  return items as T[];
}
const peersWanted = listOption(args.peers, PEERS, "peers") ?? [...PEERS];
const modes = listOption(args["quartet-modes"], MODES, "quartet-modes") ?? ["plain"];
// A relative path is taken from where `pnpm bench` was typed (pnpm runs this script in packages/bench).
const baseline = args.baseline === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), args.baseline);
if (baseline !== undefined && !existsSync(join(baseline, "packages/core/src/index.ts"))) {
  throw new Error(`--baseline ${args.baseline}: no packages/core/src/index.ts there`);
}
const quick = args.quick!;
const reps = Number(args.reps ?? (quick ? 1 : 5));
const node24 = join(root, "tools/runtimes/node_modules/node/bin/node");
const nodes = args.node ?? [process.execPath, ...(existsSync(node24) && !quick ? [node24] : [])];
const bundleDir = mkdtempSync(join(tmpdir(), "quartet-bench-"));
const workerBundle = await bundleWorker(join(bundleDir, "worker.mjs"));
/** The same worker with @quartet/core (and @quartet/node, if it has it) taken from the baseline checkout's sources. */
const baselineBundle = baseline === undefined ? undefined : await bundleWorker(join(bundleDir, "worker-baseline.mjs"), [fromBaseline(baseline)]);
process.on("exit", () => rmSync(bundleDir, { recursive: true, force: true }));
const scenarioNames = readdirSync(join(here, "scenarios"))
  .filter((name) => !args.only || args.only.split(",").includes(name))
  .sort();

interface Run {
  ms: number;
  metrics: Record<string, number>;
  note: string | null;
}

/** What runs in a column: which peer, which bundle, and the environment that sets its mode. */
interface Runner {
  column: Column;
  /** The peer's file in the scenario's folder, without `.ts`: a standard peer or one of the scenario's variants. */
  peer: string;
  bundle: string;
  env: Record<string, string>;
}

/** The environment of a worker: the bench's own, without Quartet's debugging switches, plus `extra`. */
function workerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!("QUARTET_DEBUG" in extra)) delete env.QUARTET_DEBUG;
  if (!("QUARTET_BENCH_INSTRUMENT" in extra)) delete env.QUARTET_BENCH_INSTRUMENT;
  return env;
}

function runnersFor(available: string[]): Runner[] {
  const runners: Runner[] = [];
  for (const peer of available) {
    if (peer !== "quartet") {
      runners.push({ column: peer, peer, bundle: workerBundle, env: {} });
      continue;
    }
    for (const mode of modes) {
      runners.push({ column: COLUMN_OF_MODE[mode], peer, bundle: workerBundle, env: ENV_OF_MODE[mode] });
    }
    if (baselineBundle !== undefined) runners.push({ column: "quartet (baseline)", peer, bundle: baselineBundle, env: {} });
  }
  return runners;
}

function runWorker(nodePath: string, scenario: string, meta: Scenario, runner: Runner, n: number, warmup: number): Run {
  const args = ["--expose-gc", runner.bundle, scenario, runner.peer, String(n), String(warmup)];
  // A server scenario's worker is the load generator: on core 1, and it starts the server on core 0.
  const [command, commandArgs] = meta.load === undefined ? [nodePath, args] : onCore(1, nodePath, args);
  const output = execFileSync(command, commandArgs, {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
    env: workerEnv(runner.env),
  });
  return JSON.parse(output.trim().split("\n").at(-1)!) as Run;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Result {
  scenario: string;
  meta: Scenario;
  n: number;
  peers: Record<Column, { headline: number; n: number; metrics: Record<string, number>; note: string | null }>;
}

/** The size a peer runs at: the full size unless the scenario lowers it for that peer. */
function sizeFor(meta: Scenario, runner: Runner): number {
  if (quick) return meta.size.quick;
  // Debugging captures a stack per blocking operation: scenarios where every item blocks say how
  // far to scale down then (per-item units keep the numbers comparable).
  if (runner.column === "quartet (debug)" && meta.size.debug !== undefined) return meta.size.debug;
  return meta.size.peers?.[runner.peer as PeerName] ?? meta.size.full;
}

/** The size of the warm-up pass before a measured pass of `size`. */
function warmupFor(meta: Scenario, size: number): number {
  return Math.min(size, Math.max(meta.size.quick, Math.round(size / 10)));
}

/** Whether the peer `name` (a standard peer, or a variant named after one, `quartet-batched`) is wanted. */
function wanted(name: string): boolean {
  return peersWanted.some((peer) => name === peer || name.startsWith(`${peer}-`));
}

async function measure(nodePath: string): Promise<{ version: string; results: Result[] }> {
  const version = execFileSync(nodePath, ["--version"], { encoding: "utf8" }).trim();
  const results: Result[] = [];
  for (const scenario of scenarioNames) {
    const meta: Scenario = (await import(`./scenarios/${scenario}/scenario.js`)).default;
    const n = quick ? meta.size.quick : meta.size.full;
    const available = [...PEERS, ...Object.keys(meta.variants ?? {})].filter((peer) =>
      existsSync(join(here, "scenarios", scenario, `${peer}.ts`)),
    );
    if (!available.includes("raw") || !available.includes("quartet")) {
      throw new Error(`scenario ${scenario} needs at least raw.ts and quartet.ts; it has ${available.join(", ") || "no peer"}`);
    }
    const runners = runnersFor(available.filter(wanted));
    const runs = new Map<Runner, Run[]>(runners.map((runner) => [runner, []]));
    if (meta.prepare !== undefined) {
      const sizes = new Set(runners.flatMap((runner) => [sizeFor(meta, runner), warmupFor(meta, sizeFor(meta, runner))]));
      for (const size of sizes) await meta.prepare(size);
    }
    for (let rep = 0; rep < reps; rep++) {
      // Interleave, and rotate who goes first, so that drift in the machine's speed hits every column alike.
      const order = runners.map((_, i) => runners[(i + rep) % runners.length]!);
      for (const runner of order) {
        const size = sizeFor(meta, runner);
        const run = runWorker(nodePath, scenario, meta, runner, size, warmupFor(meta, size));
        runs.get(runner)!.push(run);
        process.stderr.write(`${version} ${scenario} ${runner.column} #${rep + 1}: ${run.ms.toFixed(1)} ms\n`);
      }
    }
    const result: Result = { scenario, meta, n, peers: {} };
    for (const [runner, list] of runs) {
      const metricNames = Object.keys(list[0]!.metrics);
      const metrics = Object.fromEntries(metricNames.map((name) => [name, median(list.map((r) => r.metrics[name]!))]));
      const size = sizeFor(meta, runner);
      const headline =
        meta.headline.kind === "metric" ? metrics[meta.headline.name]! : scaleTime(median(list.map((r) => r.ms)), meta, size);
      result.peers[runner.column] = { headline, n: size, metrics, note: list[0]!.note };
    }
    results.push(result);
  }
  return { version, results };
}

/** The measured milliseconds in the headline's unit, per item if the headline is per item. */
function scaleTime(ms: number, meta: Scenario, n: number): number {
  if (meta.headline.kind !== "time") return ms;
  const perItem = meta.headline.per ? ms / (n / meta.headline.per) : ms;
  return perItem * { ms: 1, "µs": 1e3, ns: 1e6 }[meta.headline.unit];
}

function format(value: number | undefined): string {
  if (value === undefined) return "–";
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? "–" : `${(a / b).toFixed(2)}×`;
}

function unitOf(meta: Scenario): string {
  if (meta.headline.kind === "metric") return meta.headline.unit;
  return meta.headline.per ? `${meta.headline.unit}/item` : meta.headline.unit;
}

/** The table of the scenarios without variants: a row per scenario, a column per standard peer. */
function table(results: Result[]): string {
  const lines = [
    "| scenario | unit | raw | quartet | effection | effect | quartet / raw | effect / quartet | effection / quartet |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const { scenario, meta, peers } of results) {
    const h = (peer: PeerName) => peers[peer]?.headline;
    lines.push(
      `| ${scenario} | ${unitOf(meta)} | ${format(h("raw"))} | ${format(h("quartet"))} | ${format(h("effection"))} | ${format(h("effect"))} | ` +
        `${ratio(h("quartet"), h("raw"))} | ${ratio(h("effect"), h("quartet"))} | ${ratio(h("effection"), h("quartet"))} |`,
    );
  }
  const extras: string[] = [];
  for (const { scenario, meta, peers } of results) {
    for (const [name, unit] of Object.entries(meta.metrics ?? {})) {
      const values = PEERS.map((peer) => `${peer} ${format(peers[peer]?.metrics[name])}${unit}`).join(", ");
      extras.push(`- ${scenario}, ${name}: ${values}`);
    }
  }
  return [...lines, "", ...extras].join("\n");
}

/**
 * The table of a scenario with variants: a row per peer, its headline and
 * metrics, each with its ratio to raw's; then what each variant is.
 */
function variantsTable({ scenario, meta, peers }: Result): string {
  const metrics = Object.entries(meta.metrics ?? {});
  const better = meta.headline.kind === "metric" && meta.headline.higherIsBetter ? "higher is better" : "lower is better";
  const head = [`${scenario} (${better})`, unitOf(meta), "/ raw", ...metrics.flatMap(([name, unit]) => [`${name} (${unit.trim()})`, "/ raw"])];
  const lines = [`| ${head.join(" | ")} |`, `| --- |${" ---: |".repeat(head.length - 1)}`];
  const raw = peers["raw"];
  for (const [column, ran] of Object.entries(peers)) {
    const cells = [column, format(ran.headline), ratio(ran.headline, raw?.headline)];
    for (const [name] of metrics) cells.push(format(ran.metrics[name]), ratio(ran.metrics[name], raw?.metrics[name]));
    lines.push(`| ${cells.join(" | ")} |`);
  }
  const described = Object.entries(meta.variants ?? {}).map(([name, what]) => `- ${name}: ${what}`);
  return [...lines, "", ...described].join("\n");
}

/** Quartet in each mode next to plain quartet (and plain quartet next to the baseline), when measured. */
function diagnosticsTable(results: Result[]): string | null {
  const columns = (["quartet (debug)", "quartet (instrumented)", "quartet (opentelemetry)", "quartet (baseline)"] as const).filter((column) =>
    results.some((result) => result.peers[column] !== undefined),
  );
  if (columns.length === 0) return null;
  const head = ["scenario", "unit", "quartet"];
  for (const column of columns) {
    head.push(column, column === "quartet (baseline)" ? "quartet / baseline" : `${column.slice("quartet (".length, -1)} / quartet`);
  }
  const lines = [`| ${head.join(" | ")} |`, `| --- | --- |${" ---: |".repeat(head.length - 2)}`];
  for (const { scenario, meta, peers } of results) {
    const h = (column: Column) => peers[column]?.headline;
    const cells = [scenario, unitOf(meta), format(h("quartet"))];
    for (const column of columns) {
      cells.push(format(h(column)), column === "quartet (baseline)" ? ratio(h("quartet"), h(column)) : ratio(h(column), h("quartet")));
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

const started = new Date();
const loadBefore = loadavg()[0]!.toFixed(2);
const measured = [];
for (const nodePath of nodes) measured.push(await measure(nodePath));

const shownArgs = process.argv.slice(2).filter((arg) => arg !== "--write-docs"); // how to measure again
const command = `npx --yes pnpm@12 bench${shownArgs.length ? ` ${shownArgs.join(" ")}` : ""}`;
const notes = new Map<string, string>();
for (const { results } of measured) {
  for (const { scenario, peers } of results) {
    for (const [column, ran] of Object.entries(peers)) {
      const reduced = !quick && ran.n !== measured[0]!.results.find((r) => r.scenario === scenario)!.n;
      const parts = [ran.note, reduced ? `run at n = ${ran.n.toLocaleString("en")}, too slow at full size for the time budget` : null];
      const note = parts.filter(Boolean).join("; ");
      if (note) notes.set(`${scenario} (${column})`, note);
    }
  }
}

const programsRan = measured.some(({ results }) => results.some(({ meta }) => meta.load !== undefined));
const report = [
  "# Performance",
  "",
  `Measured by \`${command}\` on ${started.toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim()}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB. Each number is the median of ${reps} runs, each in a fresh process ` +
    "(`--expose-gc`, a warm-up pass, then the measured pass), with the peers interleaved. Lower is better, " +
    `except where a table says otherwise. Load average (1 min) ${loadBefore} before the runs, ${loadavg()[0]!.toFixed(2)} after.` +
    (programsRan ? ` Server scenarios: ${PINNED ? "server pinned to core 0, load generator to core 1 (taskset)" : "unpinned (one core, or no taskset)"}.` : ""),
  "",
  "Peers: **raw** is plain async/await and promises, with a hand-written resolver-queue channel " +
    "(`packages/bench/src/raw-channel.ts`) where a channel is needed: the practical limit, without cancellation or structure. " +
    "**effection** is effection 4, **effect** is Effect 4.",
  "",
  ...measured.flatMap(({ version, results }) => {
    const micro = results.filter(({ meta }) => meta.variants === undefined);
    const programs = results.filter(({ meta }) => meta.variants !== undefined);
    const diagnostics = diagnosticsTable(micro);
    return [
      `## Node ${version}`,
      "",
      ...(micro.length === 0 ? [] : [table(micro), ""]),
      ...(diagnostics === null ? [] : ["### Quartet with diagnostics", "", diagnostics, ""]),
      ...programs.flatMap((result) => [`### ${result.scenario}`, "", variantsTable(result), ""]),
    ];
  }),
  "## How each peer does each scenario",
  "",
  ...Array.from(notes, ([where, note]) => `- ${where}: ${note}`),
  "",
  ...measured[0]!.results.map(({ scenario, meta, n }) => `- **${scenario}** (n = ${n.toLocaleString("en")}): ${meta.title}`),
  "",
].join("\n");

if (quick) {
  process.stdout.write(`${report}\nbench --quick: every scenario ran and checked its result.\n`);
} else {
  const out = args.out ?? join(here, "../results/performance.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
  process.stdout.write(`wrote ${out}\n`);
  if (args["write-docs"]) {
    const docs = join(root, "docs/performance.md");
    // Keep the hand-written analysis that follows the generated part.
    const existing = existsSync(docs) ? readFileSync(docs, "utf8") : "";
    const marker = "<!-- analysis -->";
    const analysis = existing.includes(marker) ? existing.slice(existing.indexOf(marker)) : `${marker}\n`;
    writeFileSync(docs, `${report}\n${analysis}`);
    process.stdout.write(`wrote ${docs}\n`);
  }
}
