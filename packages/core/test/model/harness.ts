// Shared machinery of the model-based tests (issue 11): a command sequence from
// fast-check runs against a model and against the real primitive, inside one
// run() on a MockClock that moves only when a command moves it.
//
// How a command runs: it applies itself to the model (which predicts, for every
// operation, exactly how it ends) and to the real system (spawning tasks that do
// blocking operations, or doing non-blocking ones in the driver), then `settle()`
// waits until every task is blocked again. Only then are the two compared: every
// operation's outcome so far, and the primitive's statistics(). So each check
// sees a quiescent system, and a schedule is fully described by its commands.
//
// Time: the clock has no autojump. Autojump would move time whenever everything
// is blocked — which is exactly when `settle()` returns — so deadlines would fire
// at moments the commands do not choose. Here time moves only by an explicit
// `clock.jump()`, and the model knows when.
import fc from "fast-check";
import { CancelScope, isCancelled, now, run, taskGroup, type TaskGroup } from "../../src/index.js";
import { parkCurrentTask, type ParkedTask } from "../../src/lowlevel.js";
import { MockClock, waitAllTasksBlocked } from "../virtual-time.js";

// ------------------------------------------------------------------- outcomes

/** How an operation ended, as both the model and the recorder describe it. */
export type Outcome =
  | { readonly status: "pending" }
  | { readonly status: "ok"; readonly value?: unknown }
  | { readonly status: "error"; readonly error: string };

export const PENDING: Outcome = Object.freeze({ status: "pending" });
export const ok = (value?: unknown): Outcome => (value === undefined ? { status: "ok" } : { status: "ok", value });
export const failed = (error: string): Outcome => ({ status: "error", error });

/** What `Cancelled` is recorded as when the scope the operation ran in was not cancelled: a cancellation it did not cause. */
export const FOREIGN_CANCELLED = "Cancelled that the operation's own scope did not cause";

/** The name an error is recorded under: its class name, or `Cancelled` (see FOREIGN_CANCELLED). */
export function errorName(error: unknown, scope: CancelScope | null): string {
  if (isCancelled(error)) return scope === null || scope.cancelCalled ? "Cancelled" : FOREIGN_CANCELLED;
  if (error instanceof Error) return error.name;
  return `non-Error thrown: ${String(error)}`;
}

/** How a blocking operation is run: plainly, under a deadline `in` ms away, or in a scope cancelled before it starts. */
export type Timing = { readonly kind: "plain" } | { readonly kind: "deadline"; readonly in: number } | { readonly kind: "precancelled" };

export const timingArbitrary: fc.Arbitrary<Timing> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Timing>({ kind: "plain" }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).map((ms): Timing => ({ kind: "deadline", in: ms })) },
  { weight: 1, arbitrary: fc.constant<Timing>({ kind: "precancelled" }) },
);

export function timingLabel(timing: Timing): string {
  return timing.kind === "plain" ? "" : timing.kind === "deadline" ? ` within ${timing.in}ms` : " in a cancelled scope";
}

/**
 * Records how each operation of the real system ends, keyed by the id the model
 * gave it. Every blocking operation runs in a cancel scope of its own, which the
 * driver can cancel (or which has a deadline), so a `Cancelled` that the
 * operation's own scope did not cause is recorded as such.
 */
export class Recorder {
  readonly outcomes = new Map<number, Outcome>();
  readonly #scopes = new Map<number, CancelScope>();

  /** Runs `body` as operation `id` in the calling task, in a scope of its own; records how it ends. */
  async perform(id: number, timing: Timing, body: () => Promise<unknown>): Promise<void> {
    const scope = new CancelScope(timing.kind === "deadline" ? { deadline: now() + timing.in } : undefined);
    if (timing.kind === "precancelled") scope.cancel();
    this.#scopes.set(id, scope);
    this.outcomes.set(id, PENDING);
    await scope.run(async () => {
      try {
        this.outcomes.set(id, ok(await body()));
      } catch (error) {
        this.outcomes.set(id, failed(errorName(error, scope)));
        // The operation's own scope catches its Cancelled; any other one propagates and fails the test.
        if (isCancelled(error)) throw error;
      }
    });
    this.#scopes.delete(id);
  }

  /** Runs a non-blocking operation `id` now, in the calling task, and records how it ended. */
  now<T>(id: number, body: () => T): T | undefined {
    try {
      const value = body();
      this.outcomes.set(id, ok(value));
      return value;
    } catch (error) {
      this.outcomes.set(id, failed(errorName(error, null)));
      return undefined;
    }
  }

  /** Cancels the scope of operation `id` (nothing if it has ended). */
  cancel(id: number): void {
    this.#scopes.get(id)?.cancel();
  }

  /** The outcomes as a plain object, for a readable diff. */
  snapshot(): Record<number, Outcome> {
    return Object.fromEntries([...this.outcomes].sort(([a], [b]) => a - b));
  }
}

/** The model's outcomes in the same shape as {@link Recorder.snapshot}. */
export function snapshotOf(outcomes: ReadonlyMap<number, Outcome>): Record<number, Outcome> {
  return Object.fromEntries([...outcomes].sort(([a], [b]) => a - b));
}

// ------------------------------------------------------------------- settling

/** Real milliseconds after which a settle or a run counts as hung (nothing here takes more than a few). */
const HANG_MS = 1_000;

/** Rejects with the Error `hang()` makes if `promise` has not settled within `ms` real milliseconds. */
export async function withinRealTime<T>(promise: Promise<T>, hang: () => Error, ms = HANG_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(hang()), ms);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until every task of the run is blocked in a Quartet operation. A task
 * that never blocks nor ends (it awaits a plain promise that nothing settles)
 * makes this fail after a real-time bound instead of hanging the test.
 */
export function settle(trace: readonly string[]): Promise<void> {
  return withinRealTime(
    waitAllTasksBlocked(),
    () =>
      new Error(
        `settle(): some task neither ended nor blocked in a Quartet operation (it awaits a promise nothing will settle). Commands so far:\n  ${trace.join("\n  ")}`,
      ),
  );
}

// ------------------------------------------------------------------- commands

/** A command: a label for the counterexample, a precondition on the model, and the step itself. */
export class Step<M extends object, R> implements fc.AsyncCommand<M, R> {
  readonly #label: string;
  readonly #check: (model: Readonly<M>) => boolean;
  readonly #run: (model: M, real: R) => Promise<void>;

  constructor(label: string, check: (model: Readonly<M>) => boolean, run: (model: M, real: R) => Promise<void>) {
    this.#label = label;
    this.#check = check;
    this.#run = run;
  }

  check(model: Readonly<M>): boolean {
    return this.#check(model);
  }

  run(model: M, real: R): Promise<void> {
    return this.#run(model, real);
  }

  toString(): string {
    return this.#label;
  }
}

/** What every real system of these tests has: the task group to spawn into, the clock, the recorder and a trace. */
export interface RealBase {
  readonly tg: TaskGroup;
  readonly clock: MockClock;
  readonly recorder: Recorder;
  readonly trace: string[];
}

/**
 * Runs `commands` against a fresh model and real system in a run() of its own,
 * then `teardown` (which must leave nothing parked). The run must end: a run
 * that does not end within a real-time bound fails the property.
 */
export async function runModel<M extends object, R extends RealBase>(
  makeModel: () => M,
  makeReal: (base: RealBase) => R | Promise<R>,
  commands: Iterable<fc.AsyncCommand<M, R>>,
  teardown: (model: M, real: R) => Promise<void>,
): Promise<void> {
  const clock = new MockClock();
  const trace: string[] = [];
  let failure: { error: unknown } | null = null;
  const finished = run(
    () =>
      taskGroup(async (tg) => {
        try {
          const model = makeModel();
          const real = await makeReal({ tg, clock, recorder: new Recorder(), trace });
          await fc.asyncModelRun(() => ({ model, real }), commands);
          trace.push("(teardown)");
          await teardown(model, real);
        } catch (error) {
          failure = { error };
          // Let cleanup that sleeps (shielded) finish while the failure unwinds the run.
          clock.autojumpThreshold = 0;
          throw error;
        }
      }),
    { clock },
  );
  await withinRealTime(finished, () => {
    const what = `the run did not end. Commands:\n  ${trace.join("\n  ")}`;
    return failure === null ? new Error(what) : new Error(`${what}\n(after this failure: ${String(failure.error)})`, { cause: failure.error });
  });
}

/** Each property test's vitest timeout: room for shrinking a failure, which the plugin below stops in time to report it. */
export const PROPERTY_TIMEOUT = 30_000;

/**
 * fc.assert with an explicit seed and run count. A failure prints its seed, path
 * and shrunk counterexample (fast-check's report); should shrinking take long,
 * it is stopped after 20 s so that the report still comes before the test times out.
 */
export function assertProperty<Ts>(property: fc.IAsyncProperty<Ts>, options: { seed: number; numRuns: number }): Promise<void> {
  // FC_SEED (see ../fast-check.ts) explores other cases: it is mixed into each property's own seed.
  const seed = process.env.FC_SEED === undefined ? options.seed : (options.seed ^ Number(process.env.FC_SEED)) | 0;
  return fc.assert(property, { ...options, seed, plugins: [fc.interruptAfterTimeLimit(20_000)] });
}

/** The index `k` picks out of `n` choices (commands carry a number; what it picks depends on the state). */
export function pick(k: number, n: number): number {
  return k % n;
}

// ------------------------------------------------------------------- actors

/**
 * A long-lived task that does what the driver posts to it, one job at a time, in
 * its own task (for primitives that belong to the task that acquired them). Its
 * mailbox parks with the kernel's own parkCurrentTask, so it does not depend on
 * the primitives under test.
 */
export class Actor {
  readonly name: string;
  readonly #inbox: Array<() => Promise<void>> = [];
  #parked: ParkedTask<void> | null = null;
  #stopped = false;
  /** Runs in the actor's task when it ends however it ends: after a failed check, it gives back what the actor holds so that the run can end. */
  onExit: () => void = () => {};

  constructor(tg: TaskGroup, name: string) {
    this.name = name;
    tg.spawn(async () => {
      try {
        await this.#loop();
      } finally {
        this.onExit();
      }
    }, { name });
  }

  /** Runs `job` in the actor's task after the jobs posted before it. */
  post(job: () => Promise<void>): void {
    this.#inbox.push(job);
    this.#parked?.wake();
  }

  /** Ends the actor's task once its jobs are done. */
  stop(): void {
    this.#stopped = true;
    this.#parked?.wake();
  }

  async #loop(): Promise<void> {
    for (;;) {
      const job = this.#inbox.shift();
      if (job !== undefined) {
        await job();
        continue;
      }
      if (this.#stopped) return;
      this.#parked = parkCurrentTask<void>();
      try {
        await this.#parked.promise;
      } finally {
        this.#parked = null;
      }
    }
  }
}
