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
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import type { Scenario } from "./scenario.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../../..");
const PEERS = ["raw", "quartet", "effection", "effect"] as const;
type PeerName = (typeof PEERS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    reps: { type: "string" },
    only: { type: "string" },
    node: { type: "string", multiple: true },
    out: { type: "string" },
    "write-docs": { type: "boolean", default: false },
  },
});
const quick = args.quick!;
const reps = Number(args.reps ?? (quick ? 1 : 5));
const node24 = join(root, "tools/runtimes/node_modules/node/bin/node");
const nodes = args.node ?? [process.execPath, ...(existsSync(node24) && !quick ? [node24] : [])];
// The worker, with Quartet (from source), effection, Effect and every scenario, bundled into
// one JavaScript file: a fresh process then starts in tens of milliseconds, not hundreds.
const bundleDir = mkdtempSync(join(tmpdir(), "quartet-bench-"));
const workerBundle = join(bundleDir, "worker.mjs");
await build({
  entryPoints: [join(here, "worker.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  conditions: ["quartet-source"],
  outfile: workerBundle,
  logLevel: "warning",
});
process.on("exit", () => rmSync(bundleDir, { recursive: true, force: true }));
const scenarioNames = readdirSync(join(here, "scenarios"))
  .filter((name) => !args.only || args.only.split(",").includes(name))
  .sort();

interface Run {
  ms: number;
  metrics: Record<string, number>;
  note: string | null;
}

function runWorker(nodePath: string, scenario: string, peer: PeerName, n: number, warmup: number): Run {
  const output = execFileSync(
    nodePath,
    ["--expose-gc", workerBundle, scenario, peer, String(n), String(warmup)],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
  );
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
  peers: Partial<Record<PeerName, { headline: number; n: number; metrics: Record<string, number>; note: string | null }>>;
}

/** The size a peer runs at: the full size unless the scenario lowers it for that peer. */
function sizeFor(meta: Scenario, peer: PeerName): number {
  return quick ? meta.size.quick : (meta.size.peers?.[peer] ?? meta.size.full);
}

async function measure(nodePath: string): Promise<{ version: string; results: Result[] }> {
  const version = execFileSync(nodePath, ["--version"], { encoding: "utf8" }).trim();
  const results: Result[] = [];
  for (const scenario of scenarioNames) {
    const meta: Scenario = (await import(`./scenarios/${scenario}/scenario.js`)).default;
    const n = quick ? meta.size.quick : meta.size.full;
    const available = PEERS.filter((peer) => existsSync(join(here, "scenarios", scenario, `${peer}.ts`)));
    if (!available.includes("raw") || !available.includes("quartet")) {
      throw new Error(`scenario ${scenario} needs at least raw.ts and quartet.ts; it has ${available.join(", ") || "no peer"}`);
    }
    const runs = new Map<PeerName, Run[]>(available.map((peer) => [peer, []]));
    for (let rep = 0; rep < reps; rep++) {
      // Interleave, and rotate who goes first, so that drift in the machine's speed hits every peer alike.
      const order = available.map((_, i) => available[(i + rep) % available.length]!);
      for (const peer of order) {
        const size = sizeFor(meta, peer);
        const run = runWorker(nodePath, scenario, peer, size, Math.min(size, Math.max(meta.size.quick, Math.round(size / 10))));
        runs.get(peer)!.push(run);
        process.stderr.write(`${version} ${scenario} ${peer} #${rep + 1}: ${run.ms.toFixed(1)} ms\n`);
      }
    }
    const result: Result = { scenario, meta, n, peers: {} };
    for (const [peer, list] of runs) {
      const metricNames = Object.keys(list[0]!.metrics);
      const metrics = Object.fromEntries(metricNames.map((name) => [name, median(list.map((r) => r.metrics[name]!))]));
      const size = sizeFor(meta, peer);
      const headline =
        meta.headline.kind === "metric" ? metrics[meta.headline.name]! : scaleTime(median(list.map((r) => r.ms)), meta, size);
      result.peers[peer] = { headline, n: size, metrics, note: list[0]!.note };
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

const started = new Date();
const measured = [];
for (const nodePath of nodes) measured.push(await measure(nodePath));

const shownArgs = process.argv.slice(2).filter((arg) => arg !== "--write-docs"); // how to measure again
const command = `npx --yes pnpm@12 bench${shownArgs.length ? ` ${shownArgs.join(" ")}` : ""}`;
const notes = new Map<string, string>();
for (const { results } of measured) {
  for (const { scenario, peers } of results) {
    for (const peer of PEERS) {
      const ran = peers[peer];
      if (ran === undefined) continue;
      const reduced = !quick && ran.n !== measured[0]!.results.find((r) => r.scenario === scenario)!.n;
      const parts = [ran.note, reduced ? `run at n = ${ran.n.toLocaleString("en")}, too slow at full size for the time budget` : null];
      const note = parts.filter(Boolean).join("; ");
      if (note) notes.set(`${scenario} (${peer})`, note);
    }
  }
}

const report = [
  "# Performance",
  "",
  `Measured by \`${command}\` on ${started.toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim()}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB. Each number is the median of ${reps} runs, each in a fresh process ` +
    "(`--expose-gc`, a warm-up pass, then the measured pass), with the peers interleaved. Lower is better.",
  "",
  "Peers: **raw** is plain async/await and promises, with a hand-written resolver-queue channel " +
    "(`packages/bench/src/raw-channel.ts`) where a channel is needed: the practical limit, without cancellation or structure. " +
    "**effection** is effection 4, **effect** is Effect 4.",
  "",
  ...measured.flatMap(({ version, results }) => [`## Node ${version}`, "", table(results), ""]),
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
