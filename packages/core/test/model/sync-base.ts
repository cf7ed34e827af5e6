// What the model-based tests of the synchronization primitives share: a pool of
// actor tasks (a Lock or a CapacityLimiter token belongs to the task that took
// it, so acquiring and releasing must happen in the same long-lived task), the
// bookkeeping of which actor waits in which operation, and time.
import fc from "fast-check";
import { expect } from "vitest";
import { Actor, PENDING, Step, pick, settle, snapshotOf, type Outcome, type RealBase, type Timing } from "./harness.js";

/** The state every primitive's model has besides its own: operation ids, who waits, deadlines, time. */
export abstract class SyncModel {
  readonly actors: number;
  now = 0;
  #nextId = 1;
  readonly outcomes = new Map<number, Outcome>();
  /** The actors that wait in an operation, and its id. An actor takes one job at a time. */
  readonly busy = new Map<number, number>();
  /** Absolute deadlines of pending operations that have one. */
  readonly deadlines = new Map<number, number>();

  constructor(actors: number) {
    this.actors = actors;
  }

  id(): number {
    return this.#nextId++;
  }

  idleActors(): number[] {
    return Array.from({ length: this.actors }, (_, a) => a).filter((a) => !this.busy.has(a));
  }

  /** The pending operations, oldest first. */
  pending(): number[] {
    return [...this.busy.values()].sort((a, b) => a - b);
  }

  end(op: number, outcome: Outcome): void {
    this.outcomes.set(op, outcome);
    this.deadlines.delete(op);
    for (const [actor, waiting] of this.busy) if (waiting === op) this.busy.delete(actor);
  }

  park(op: number, actor: number, timing: Timing): void {
    this.outcomes.set(op, PENDING);
    this.busy.set(actor, op);
    if (timing.kind === "deadline") this.deadlines.set(op, this.now + timing.in);
  }

  /** Time passes: operations whose deadline has come are cancelled, earliest deadline first. */
  advance(ms: number): void {
    this.now += ms;
    const due = [...this.deadlines].filter(([, deadline]) => deadline <= this.now).sort(([a, da], [b, db]) => da - db || a - b);
    for (const [op] of due) this.cancel(op);
  }

  /** The scope of pending operation `op` is cancelled. */
  abstract cancel(op: number): void;

  /** The actors that hold something of the primitive now. */
  abstract holders(): number[];
}

/** The real side: the actors, and what each holds (its current acquisition, and the last one it gave back). */
export interface SyncReal extends RealBase {
  readonly actors: Actor[];
  readonly held: Array<Disposable | null>;
  readonly last: Array<Disposable | null>;
}

export function makeSyncReal<R extends SyncReal>(base: RealBase, actors: number, extra: Omit<R, keyof SyncReal>): R {
  const real = {
    ...base,
    actors: Array.from({ length: actors }, (_, a) => new Actor(base.tg, `actor${a}`)),
    held: Array.from({ length: actors }, () => null),
    last: Array.from({ length: actors }, () => null),
    ...extra,
  } as R;
  real.actors.forEach((actor, a) => {
    actor.onExit = () => {
      try {
        real.held[a]?.[Symbol.dispose]();
      } catch {
        // The check that failed is what gets reported.
      }
    };
  });
  return real;
}

/** Runs `body` (a blocking operation) as op `op` in actor `a`'s task. */
export function inActor(real: SyncReal, a: number, op: number, timing: Timing, body: () => Promise<unknown>): void {
  real.actors[a]!.post(() => real.recorder.perform(op, timing, body));
}

/** Runs `body` (a non-blocking operation) as op `op` in actor `a`'s task. */
export function nowInActor(real: SyncReal, a: number, op: number, body: () => void): void {
  real.actors[a]!.post(async () => {
    real.recorder.now(op, body);
  });
}

/** The actor an actor-number picks: one of those not waiting in an operation. */
export function idleActor(model: Readonly<SyncModel>, k: number): number {
  const idle = model.idleActors();
  return idle[pick(k, idle.length)]!;
}

export const hasIdleActor = (model: Readonly<SyncModel>): boolean => model.idleActors().length > 0;

/** Who does an operation: mostly one of the holders (releasing, waiting, notifying), else any actor that is free. */
export interface Who {
  readonly holder: boolean;
  readonly k: number;
}

export function whoArbitrary(actors: number): fc.Arbitrary<Who> {
  return fc.record({ holder: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), k: fc.nat({ max: actors - 1 }) });
}

export function whoLabel(who: Who): string {
  return who.holder ? `holder k${who.k}` : `actor k${who.k}`;
}

/** The actor `who` picks: a holder that is free if there is one and it asks for one, else any free actor. */
export function chooseActor(model: Readonly<SyncModel>, who: Who): number {
  const idle = model.idleActors();
  const holders = model.holders().filter((a) => idle.includes(a));
  if (who.holder && holders.length > 0) return holders[pick(who.k, holders.length)]!;
  return idle[pick(who.k, idle.length)]!;
}

/** A command: apply to model and real, wait until every task is blocked, compare. */
export function syncStep<M extends SyncModel, R extends SyncReal>(
  label: string,
  check: (model: Readonly<M>) => boolean,
  act: (model: M, real: R) => void,
  compare: (model: M, real: R) => void,
): Step<M, R> {
  return new Step<M, R>(label, check, async (model, real) => {
    real.trace.push(label);
    act(model, real);
    await settle(real.trace);
    expect(real.recorder.snapshot(), "how every operation so far ended").toEqual(snapshotOf(model.outcomes));
    compare(model, real);
  });
}

/** Commands every primitive has: cancelling a waiting operation, and time passing (which fires deadlines). */
export function commonCommands<M extends SyncModel, R extends SyncReal>(compare: (model: M, real: R) => void): Array<fc.Arbitrary<Step<M, R>>> {
  return [
    fc.nat({ max: 7 }).map((k) =>
      syncStep<M, R>(
        `cancel(waiting op k${k})`,
        (model) => model.pending().length > 0,
        (model, real) => {
          const pending = model.pending();
          const op = pending[pick(k, pending.length)]!;
          model.cancel(op);
          real.recorder.cancel(op);
        },
        compare,
      ),
    ),
    fc.integer({ min: 1, max: 3 }).map((ms) =>
      syncStep<M, R>(
        `time passes: ${ms}ms`,
        () => true,
        (model, real) => {
          model.advance(ms);
          real.clock.jump(ms);
        },
        compare,
      ),
    ),
  ];
}

/** Ends the actors' tasks once nothing waits, so that the run can end. */
export async function stopActors(model: SyncModel, real: SyncReal, compare: () => void): Promise<void> {
  expect(model.pending(), "the model leaves nothing waiting").toEqual([]);
  expect([...real.recorder.outcomes].filter(([, outcome]) => outcome.status === "pending"), "operations still parked").toEqual([]);
  for (const actor of real.actors) actor.stop();
  await settle(real.trace);
  compare();
}
