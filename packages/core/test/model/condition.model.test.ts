// Model-based test of Condition (issue 11). Actor tasks acquire and release the
// lock, wait(), notify(n) and notifyAll(), from the right task and the wrong one;
// waits and acquires are cancelled. The model follows trio: wait() releases the
// lock and parks; notify moves the longest waiters to the back of the lock's
// queue, so they get the lock in turn, fairly; a wait cancelled before it got the
// lock back queues for it again at the back (shielded) and throws once it holds
// it. After every command the outcomes so far and statistics() agree with the
// model; independently of it, a wait() never returns or throws without the lock
// held by its task. At the end nothing is left parked and the run ends.
//
// Cancellation here is one operation per command, and without deadlines: two
// waits cancelled in the same tick queue for the lock again in an order the
// contract does not fix.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Condition, Lock } from "../../src/index.js";
import { PROPERTY_TIMEOUT, assertProperty, failed, ok, runModel, settle, type RealBase, type Timing } from "./harness.js";
import { SyncModel, chooseActor, commonCommands, hasIdleActor, idleActor, whoArbitrary, whoLabel, inActor, makeSyncReal, nowInActor, stopActors, syncStep, type SyncReal } from "./sync-base.js";

const ACTORS = 4;
const name = (actor: number): string => `actor${actor}`;
const actor = fc.nat({ max: ACTORS - 1 });
const who = whoArbitrary(ACTORS);

const timing: fc.Arbitrary<Timing> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Timing>({ kind: "plain" }) },
  { weight: 1, arbitrary: fc.constant<Timing>({ kind: "precancelled" }) },
);
const timingLabel = (t: Timing): string => (t.kind === "precancelled" ? " in a cancelled scope" : "");

/** Who waits for the lock: a plain acquire(), a wait() that was notified, or a cancelled wait() getting the lock back. */
interface LockWaiter {
  readonly actor: number;
  readonly op: number;
  readonly kind: "acquire" | "notified" | "reacquire";
}

class ConditionModel extends SyncModel {
  owner: number | null = null;
  readonly lockQueue: LockWaiter[] = [];
  /** Tasks in wait(), not yet notified. */
  readonly waiting: Array<{ readonly actor: number; readonly op: number }> = [];

  acquire(op: number, a: number, t: Timing): void {
    if (t.kind === "precancelled") return this.end(op, failed("Cancelled"));
    if (this.owner === a) return this.end(op, failed("Error"));
    if (this.owner === null) {
      this.owner = a;
      return this.end(op, ok());
    }
    this.lockQueue.push({ actor: a, op, kind: "acquire" });
    this.park(op, a, t);
  }

  acquireNowait(op: number, a: number): void {
    if (this.owner === a) return this.end(op, failed("Error"));
    if (this.owner !== null) return this.end(op, failed("WouldBlock"));
    this.owner = a;
    this.end(op, ok());
  }

  release(op: number, a: number, how: "release()" | "dispose"): void {
    if (how === "release()" && this.owner !== a) return this.end(op, failed("Error"));
    if (this.owner === a) this.#handOver();
    this.end(op, ok());
  }

  /** The lock goes to the first in its queue: an acquire() or a notified wait() returns; a cancelled wait() throws. */
  #handOver(): void {
    const next = this.lockQueue.shift();
    this.owner = next?.actor ?? null;
    if (next !== undefined) this.end(next.op, next.kind === "reacquire" ? failed("Cancelled") : ok());
  }

  wait(op: number, a: number, t: Timing): void {
    if (t.kind === "precancelled") return this.end(op, failed("Cancelled")); // keeps the lock
    if (this.owner !== a) return this.end(op, failed("Error"));
    this.#handOver();
    this.waiting.push({ actor: a, op });
    this.park(op, a, t);
  }

  notify(op: number, a: number, n: number): void {
    if (this.owner !== a) return this.end(op, failed("Error"));
    for (const { actor, op: waitOp } of this.waiting.splice(0, n)) this.lockQueue.push({ actor, op: waitOp, kind: "notified" });
    this.end(op, ok());
  }

  cancel(op: number): void {
    const w = this.waiting.findIndex((x) => x.op === op);
    if (w >= 0) return this.#reacquire(this.waiting.splice(w, 1)[0]!.actor, op);
    const l = this.lockQueue.findIndex((x) => x.op === op);
    if (l < 0) return;
    const waiter = this.lockQueue[l]!;
    if (waiter.kind === "reacquire") return; // shielded: it gets the lock back whatever happens
    this.lockQueue.splice(l, 1);
    if (waiter.kind === "acquire") this.end(op, failed("Cancelled"));
    else this.#reacquire(waiter.actor, op); // notified, but cancelled before it had the lock: to the back of the queue
  }

  holders(): number[] {
    return this.owner === null ? [] : [this.owner];
  }

  /** A cancelled wait() takes the lock back before it throws: at once if it is free, else from the back of the queue. */
  #reacquire(a: number, op: number): void {
    if (this.owner === null) {
      this.owner = a;
      this.end(op, failed("Cancelled"));
    } else {
      this.lockQueue.push({ actor: a, op, kind: "reacquire" });
    }
  }

  statistics() {
    return {
      tasksWaiting: this.waiting.length,
      lockStatistics: { locked: this.owner !== null, owner: this.owner === null ? null : name(this.owner), tasksWaiting: this.lockQueue.length },
    };
  }
}

interface ConditionReal extends SyncReal {
  readonly condition: Condition;
  /** Waits that returned or threw while their task did not hold the lock. */
  readonly violations: string[];
  /** Actors inside wait(): they keep their acquisition, but the lock is not theirs meanwhile. */
  readonly inWait: Set<number>;
}

function compare(model: ConditionModel, real: ConditionReal): void {
  expect(real.condition.statistics(), "statistics()").toEqual(model.statistics());
  expect(real.condition.locked()).toBe(model.owner !== null);
  expect(real.violations, "wait() returned or threw without the lock").toEqual([]);
  const holders = real.held.flatMap((held, a) => (held === null || real.inWait.has(a) ? [] : [name(a)]));
  expect(holders.length, "actors holding the lock").toBeLessThanOrEqual(1);
  expect(real.condition.statistics().lockStatistics.owner).toBe(holders[0] ?? null);
}

function release(real: ConditionReal, a: number, how: "release()" | "dispose"): void {
  const acquisition = real.held[a] ?? null;
  if (how === "release()") real.condition.release();
  else acquisition?.[Symbol.dispose]();
  if (acquisition !== null) real.held[a] = null;
}

const commands = fc.commands(
  [
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(actor, timing).map(([k, t]) =>
          syncStep<ConditionModel, ConditionReal>(`actor k${k}: acquire()${timingLabel(t)}`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquire(op, a, t);
            inActor(real, a, op, t, async () => {
              real.held[a] = await real.condition.acquire();
            });
          }, compare),
        ),
      },
      {
        weight: 1,
        arbitrary: actor.map((k) =>
          syncStep<ConditionModel, ConditionReal>(`actor k${k}: acquireNowait()`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquireNowait(op, a);
            nowInActor(real, a, op, () => {
              real.held[a] = real.condition.acquireNowait();
            });
          }, compare),
        ),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(who, fc.constantFrom("release()" as const, "dispose" as const)).map(([w, how]) =>
          syncStep<ConditionModel, ConditionReal>(`${whoLabel(w)}: ${how}`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            model.release(op, a, how);
            nowInActor(real, a, op, () => release(real, a, how));
          }, compare),
        ),
      },
      {
        weight: 4,
        arbitrary: fc.tuple(who, timing).map(([w, t]) =>
          syncStep<ConditionModel, ConditionReal>(`${whoLabel(w)}: wait()${timingLabel(t)}`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            model.wait(op, a, t);
            inActor(real, a, op, t, async () => {
              const held = real.held[a] !== null;
              real.inWait.add(a);
              try {
                await real.condition.wait();
              } finally {
                real.inWait.delete(a);
                if (held && real.condition.statistics().lockStatistics.owner !== name(a)) real.violations.push(`op ${op}`);
              }
            });
          }, compare),
        ),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(who, fc.constantFrom(0, 1, 2, Infinity)).map(([w, n]) =>
          syncStep<ConditionModel, ConditionReal>(`${whoLabel(w)}: ${n === Infinity ? "notifyAll()" : `notify(${n})`}`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            model.notify(op, a, n);
            nowInActor(real, a, op, () => (n === Infinity ? real.condition.notifyAll() : real.condition.notify(n)));
          }, compare),
        ),
      },
      {
        // release() hands the lock to the first in its queue; cancelling that task in the same tick is too late.
        weight: 1,
        arbitrary: who.map((w) =>
          syncStep<ConditionModel, ConditionReal>(`${whoLabel(w)}: release() and at once cancel the first in the lock's queue`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            const first = model.lockQueue[0]?.op;
            model.release(op, a, "release()");
            if (first !== undefined) model.cancel(first);
            nowInActor(real, a, op, () => {
              try {
                release(real, a, "release()");
              } finally {
                if (first !== undefined) real.recorder.cancel(first);
              }
            });
          }, compare),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom("release()", "notify()", "notifyAll()").map((method) =>
          syncStep<ConditionModel, ConditionReal>(`${method} from a task that does not hold the lock`, () => true, (model, real) => {
            const op = model.id();
            model.end(op, failed("Error"));
            const condition = real.condition;
            real.recorder.now(op, () => (method === "release()" ? condition.release() : method === "notify()" ? condition.notify() : condition.notifyAll()));
          }, compare),
        ),
      },
      // Only the cancel command: time passing would fire no deadline here.
      { weight: 3, arbitrary: commonCommands<ConditionModel, ConditionReal>(compare)[0]! },
    ),
  ],
  { maxCommands: 30, size: "medium" },
);

/** Cancels every wait and acquire, lets each holder release in turn (cancelled waits get the lock back first), until nothing is left. */
async function teardown(model: ConditionModel, real: ConditionReal): Promise<void> {
  for (let round = 0; round < 4 * ACTORS && (model.pending().length > 0 || model.owner !== null); round++) {
    for (const op of model.pending()) {
      model.cancel(op);
      real.recorder.cancel(op);
    }
    await settle(real.trace);
    const a = model.owner;
    if (a === null) continue;
    const op = model.id();
    model.release(op, a, "dispose");
    nowInActor(real, a, op, () => release(real, a, "dispose"));
    await settle(real.trace);
  }
  await stopActors(model, real, () => {
    compare(model, real);
    expect(real.condition.statistics()).toEqual({ tasksWaiting: 0, lockStatistics: { locked: false, owner: null, tasksWaiting: 0 } });
  });
}

describe("Condition model", () => {
  it("wait() gives up and gets back the lock fairly; notify wakes the longest waiters; cancellation re-acquires; nothing left parked", async () => {
    await assertProperty(
      fc.asyncProperty(fc.boolean(), commands, async (ownLock, cmds) => {
        await runModel(
          () => new ConditionModel(ACTORS),
          (base: RealBase) =>
            makeSyncReal<ConditionReal>(base, ACTORS, { condition: ownLock ? new Condition(new Lock()) : new Condition(), violations: [], inWait: new Set() }),
          cmds,
          teardown,
        );
      }),
      { seed: 0x11_1004, numRuns: 150 },
    );
  }, PROPERTY_TIMEOUT);
});
