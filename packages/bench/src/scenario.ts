/**
 * The contract between the harness and the benchmark files.
 *
 * Each scenario is a folder under `scenarios/` with a `scenario.ts` (what is
 * measured and how its result is checked) and one file per peer (`raw.ts`,
 * `quartet.ts`, `effection.ts`, `effect.ts`), whose default export runs the
 * workload once.
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
    peers?: Partial<Record<"raw" | "quartet" | "effection" | "effect", number>>;
    /**
     * The full size for quartet with debugging on (`--quartet-modes debug`), for a scenario whose
     * every item blocks: debugging captures a stack per blocking operation, tens of µs each.
     */
    debug?: number;
  };
  /** What the headline number is: time of the measured section (total or per item), or a metric. */
  headline: { kind: "time"; per?: number; unit: "ms" | "µs" | "ns" } | { kind: "metric"; name: string; unit: string };
  /** Extra metrics to report, by name, with their unit. */
  metrics?: Record<string, string>;
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
