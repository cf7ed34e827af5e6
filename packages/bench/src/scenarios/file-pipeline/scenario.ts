/**
 * file-pipeline: a web server's access log, read from disk, split into lines,
 * each line parsed (its status and duration) by one of 4 workers, and the
 * results aggregated (lines, requests per status, total duration): the
 * pipeline of docs/pipelines.md on a big file. Measures throughput (MB of log
 * per second) and the process's peak RSS.
 *
 * Peers: raw is `stream.pipeline` with a line-splitting Transform that does
 * the parsing; quartet sends one line per `send()`, as docs/pipelines.md's
 * Stage 1 does; quartet-batched sends each chunk's lines with `sendMany()` and
 * the workers take them with `receiveMany()`.
 *
 * The log of `n` MB is generated once, before the runs, into
 * `$TMPDIR/quartet-bench/` (deterministic content, kept for later runs), with
 * the aggregate a correct run must find beside it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectEqual, type Scenario } from "../../scenario.js";

/** Bytes read from the file at a time (the read stream's highWaterMark), in every peer. */
export const CHUNK_SIZE = 64 * 1024;
/** Workers parsing lines, in the quartet peers. */
export const WORKERS = 4;

const dir = join(tmpdir(), "quartet-bench");

/** The generated log of `n` MB. */
export function logFile(n: number): string {
  return join(dir, `access-${n}MB.log`);
}

/** The aggregate of a log: what the pipeline computes. */
export class Tally {
  lines = 0;
  totalMs = 0;
  /** Requests per status code. */
  readonly statuses = new Map<number, number>();

  /** Parses one line, "<time> GET <path> <status> <duration>ms", and counts it. */
  addLine(line: string): void {
    const [, , , status, duration] = line.split(" ");
    this.add(Number(status), Number.parseInt(duration!, 10));
  }

  add(status: number, ms: number): void {
    this.lines++;
    this.totalMs += ms;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  merge(other: Tally): void {
    this.lines += other.lines;
    this.totalMs += other.totalMs;
    for (const [status, count] of other.statuses) this.statuses.set(status, (this.statuses.get(status) ?? 0) + count);
  }

  /** A canonical text of the aggregate, to compare. */
  toString(): string {
    const statuses = [...this.statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}:${count}`);
    return `${this.lines} lines, ${this.totalMs} ms in all, ${statuses.join(" ")}`;
  }
}

/** Line `i` of the log: the same every time. */
function logLine(i: number): string {
  const status = i % 50 === 0 ? 500 : i % 7 === 0 ? 404 : 200;
  const time = `2024-05-01T${String(Math.floor(i / 3600) % 24).padStart(2, "0")}:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z`;
  return `${time} GET /items/${(i * 31) % 9973} ${status} ${(i * 7919) % 1000}ms\n`;
}

/** Writes the log of `n` MB (whole lines, at least n MiB) and its aggregate, unless they are there already. */
async function prepare(n: number): Promise<void> {
  const path = logFile(n);
  if (existsSync(path) && existsSync(`${path}.json`)) return;
  mkdirSync(dir, { recursive: true });
  const tally = new Tally();
  const partial = `${path}.${process.pid}.tmp`;
  const fd = openSync(partial, "w");
  let bytes = 0;
  let i = 0;
  while (bytes < n * 2 ** 20) {
    let block = "";
    for (let j = 0; j < 10_000; j++, i++) {
      const line = logLine(i);
      block += line;
      tally.add(i % 50 === 0 ? 500 : i % 7 === 0 ? 404 : 200, (i * 7919) % 1000);
    }
    bytes += writeSync(fd, block);
  }
  closeSync(fd);
  renameSync(partial, path);
  writeFileSync(`${path}.json`, JSON.stringify({ bytes: statSync(path).size, aggregate: tally.toString() }));
}

/** What a peer measures, from when it is made: elapsed and CPU time. */
export class Stopwatch {
  readonly #started = performance.now();
  readonly #cpu = process.cpuUsage();

  /**
   * What a peer returns: the aggregate it found, the throughput, the peak RSS
   * of the process, and the CPU time per MB (user and system; it varies less
   * than the elapsed time on a machine shared with other work).
   */
  outcome(n: number, tally: Tally): { result: string; metrics: Record<string, number> } {
    const ms = performance.now() - this.#started;
    const { user, system } = process.cpuUsage(this.#cpu);
    const mb = (JSON.parse(readFileSync(`${logFile(n)}.json`, "utf8")) as { bytes: number }).bytes / 2 ** 20;
    return {
      result: tally.toString(),
      metrics: { "MB/s": mb / (ms / 1000), "peak RSS": process.resourceUsage().maxRSS / 1024, CPU: (user + system) / 1000 / mb },
    };
  }
}

export default {
  title: "file-pipeline: a 200 MB access log read, split into lines, parsed by 4 workers, aggregated",
  size: { full: 200, quick: 2 },
  headline: { kind: "metric", name: "MB/s", unit: "MB/s", higherIsBetter: true },
  metrics: { "peak RSS": " MB", CPU: " ms/MB" },
  variants: { "quartet-batched": "each chunk's lines with sendMany(), the workers take them with receiveMany()" },
  prepare,
  check(n, result) {
    const { aggregate } = JSON.parse(readFileSync(`${logFile(n)}.json`, "utf8")) as { aggregate: string };
    expectEqual(result, aggregate, `the aggregate of the ${n} MB log`);
  },
} satisfies Scenario;
