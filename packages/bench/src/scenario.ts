/**
 * The contract between the harness and the benchmark files.
 *
 * Each scenario is a folder under `scenarios/` with a `scenario.ts` (what is
 * measured and how its result is checked) and one file per peer (`raw.ts`,
 * `quartet.ts`, `effection.ts`, `effect.ts`, and the scenario's `variants`),
 * whose default export runs the workload once.
 *
 * A *server* scenario (one with `load`) measures a program from outside: each
 * peer file's default export is a {@link ServerPeer}, which the worker starts
 * in a process of its own, and `load` drives it over loopback from the
 * worker's process (the two pinned to different cores where the machine has
 * two).
 */

/** What a peer gets to mark the part of its run that is measured. */
export interface Meter {
  /** Starts the measured section; by default the whole run is measured. */
  start(): void;
  /** Ends the measured section. */
  stop(): void;
  /** Heap bytes in use after a full garbage collection (the worker runs with --expose-gc). */
  heapUsed(): number;
}

/** What one run of a peer returns. */
export interface Outcome {
  /** The workload's result, which the scenario checks (a sum, a count…). */
  result: unknown;
  /** Scenario-specific measurements (bytes per task, spread across workers…), keyed by `Scenario.metrics`. */
  metrics?: Record<string, number>;
  /** How this peer did the workload when it lacks the primitive (printed in the report). */
  note?: string;
}

/** A peer's implementation of a scenario: run the workload of size `n` once. */
export type Peer = (n: number, meter: Meter) => Promise<Outcome>;

/**
 * A peer of a server scenario: serves on 127.0.0.1, on a free port, until its
 * process is killed; calls `ready(port)` once it listens.
 */
export type ServerPeer = (ready: (port: number) => void) => Promise<void>;

/** A server scenario's server, as its `load` sees it. */
export interface RunningServer {
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /**
   * The CPU time the server's process has spent in user mode so far, in ms:
   * the server's own work, without the kernel's (whose share of a loopback
   * write grows when the client is idle more often, as it is when the server
   * is slower, so that it does not compare servers).
   */
  cpuTime(): Promise<number>;
}

/** The peers every scenario may have; a scenario's `variants` add more. */
export const PEERS = ["raw", "quartet", "effection", "effect"] as const;
export type PeerName = (typeof PEERS)[number];

export interface Scenario {
  /** One line on what is measured. */
  title: string;
  /**
   * The workload size for the full run and for `--quick`; `peers` lowers the
   * full size for a peer too slow to run it within the time budget (the report
   * says so; per-item units keep the numbers comparable).
   */
  size: {
    full: number;
    quick: number;
    peers?: Partial<Record<PeerName, number>>;
    /**
     * The full size for quartet with debugging on (`--quartet-modes debug`), for a scenario whose
     * every item blocks: debugging captures a stack per blocking operation, tens of µs each.
     */
    debug?: number;
  };
  /**
   * What the headline number is: time of the measured section (total or per
   * item), or a metric (`higherIsBetter` for a rate such as requests per second).
   */
  headline:
    | { kind: "time"; per?: number; unit: "ms" | "µs" | "ns" }
    | { kind: "metric"; name: string; unit: string; higherIsBetter?: boolean };
  /** Extra metrics to report, by name, with their unit. */
  metrics?: Record<string, string>;
  /**
   * Peers besides the standard four, by file name (without `.ts`), with a
   * short description: `{ "quartet-batched": "quartet, sendMany/receiveMany" }`.
   * A scenario with variants gets a table of its own in the report, a row per
   * peer, each number with its ratio to raw.
   */
  variants?: Record<string, string>;
  /**
   * Makes what the runs of size `n` need (a generated input file, say), once,
   * before any run; called by the harness, outside the measured processes.
   */
  prepare?(n: number): Promise<void>;
  /**
   * For a server scenario: drives the peer's running `server` with
   * the load of size `n` (a duration, a request count…), and returns what was
   * measured. Called twice per process, as a peer is: a warm-up, then the
   * measured run.
   */
  load?(server: RunningServer, n: number): Promise<Outcome>;
  /** Throws if `result` is not what a correct run of size `n` gives. */
  check(n: number, result: unknown): void;
}

export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

/** 0 + 1 + … + (n - 1). */
export function triangle(n: number): number {
  return (n * (n - 1)) / 2;
}
