// Model-based tests of Lock, Semaphore and CapacityLimiter (issue 11). Actor
// tasks acquire (plainly, under a deadline, or in a cancelled scope), release (by
// release(), by disposing what acquire() returned, by disposing an acquisition
// already given back, from the wrong task), blocked acquires are cancelled, time
// passes, limits change. A model of each primitive predicts exactly how every
// operation ends, so fairness is checked precisely: a release hands over to the
// first waiter, never to a newcomer; a cancelled waiter never acquires and costs
// nobody a unit. After every command the outcomes so far, statistics() and the
// primitive's getters agree with the model, and checks that do not trust the
// model hold (no more holders than capacity, units conserved). At the end every
// waiter is cancelled and every holder releases: nothing is left parked and the
// run ends.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CapacityLimiter, Lock, Semaphore } from "../../src/index.js";
import { PROPERTY_TIMEOUT, assertProperty, failed, ok, runModel, settle, snapshotOf, timingArbitrary, timingLabel, type RealBase, type Timing } from "./harness.js";
import { SyncModel, chooseActor, commonCommands, hasIdleActor, idleActor, whoArbitrary, whoLabel, inActor, makeSyncReal, nowInActor, stopActors, syncStep, type SyncReal } from "./sync-base.js";

const ACTORS = 4;
const name = (actor: number): string => `actor${actor}`;
const actor = fc.nat({ max: ACTORS - 1 });
const who = whoArbitrary(ACTORS);

interface Waiting {
  readonly actor: number;
  readonly op: number;
}

/** Removes `op` from `queue`; whether it was there. */
function leave(queue: Waiting[], op: number): boolean {
  const i = queue.findIndex((w) => w.op === op);
  if (i < 0) return false;
  queue.splice(i, 1);
  return true;
}

/** How an actor gives back what it holds: release(), disposing its current acquisition, or disposing one it already gave back (a no-op). */
type Way = "release()" | "dispose" | "dispose stale";
const way = fc.constantFrom<Way>("release()", "dispose", "dispose stale");

/** The real side of giving back, for Lock and CapacityLimiter (whose release() belongs to a task). */
function giveBack(real: SyncReal, a: number, how: Way, release: () => void): void {
  if (how === "release()") {
    release();
    real.last[a] = real.held[a]!;
    real.held[a] = null;
  } else if (how === "dispose") {
    const acquisition = real.held[a] ?? null;
    if (acquisition === null) return;
    real.held[a] = null;
    real.last[a] = acquisition;
    acquisition[Symbol.dispose]();
  } else {
    real.last[a]?.[Symbol.dispose]();
  }
}

// =================================================================== Lock

class LockModel extends SyncModel {
  owner: number | null = null;
  readonly queue: Waiting[] = [];

  acquire(op: number, a: number, timing: Timing): void {
    if (timing.kind === "precancelled") return this.end(op, failed("Cancelled"));
    if (this.owner === a) return this.end(op, failed("Error")); // acquiring again would deadlock
    if (this.owner === null) {
      this.owner = a;
      return this.end(op, ok());
    }
    this.queue.push({ actor: a, op });
    this.park(op, a, timing);
  }

  acquireNowait(op: number, a: number): void {
    if (this.owner === a) return this.end(op, failed("Error"));
    if (this.owner !== null) return this.end(op, failed("WouldBlock"));
    this.owner = a;
    this.end(op, ok());
  }

  giveBack(op: number, a: number, how: Way): void {
    if (how === "release()" && this.owner !== a) return this.end(op, failed("Error")); // not the owner
    if (how !== "dispose stale" && this.owner === a) this.#handOver();
    this.end(op, ok());
  }

  /** Another task disposes of `owner`'s acquisition: refused while it is the lock's current one, else a no-op. */
  disposeOthers(op: number, owner: number): void {
    this.end(op, this.owner === owner ? failed("Error") : ok());
  }

  /** The lock goes to the first waiter, if any: that waiter's acquire() returns. */
  #handOver(): void {
    const next = this.queue.shift();
    this.owner = next?.actor ?? null;
    if (next !== undefined) this.end(next.op, ok());
  }

  cancel(op: number): void {
    if (leave(this.queue, op)) this.end(op, failed("Cancelled"));
  }

  holders(): number[] {
    return this.owner === null ? [] : [this.owner];
  }

  statistics() {
    return { locked: this.owner !== null, owner: this.owner === null ? null : name(this.owner), tasksWaiting: this.queue.length };
  }
}

interface LockReal extends SyncReal {
  readonly lock: Lock;
}

function compareLock(model: LockModel, real: LockReal): void {
  expect(real.lock.statistics(), "statistics()").toEqual(model.statistics());
  expect(real.lock.locked()).toBe(model.owner !== null);
  // Not trusting the model: at most one actor holds the lock, and it is the owner the lock names.
  const holders = real.held.flatMap((held, a) => (held === null ? [] : [name(a)]));
  expect(holders.length, "actors holding the Lock").toBeLessThanOrEqual(1);
  expect(real.lock.statistics().owner).toBe(holders[0] ?? null);
}

const lockCommands = fc.commands(
  [
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.tuple(actor, timingArbitrary).map(([k, timing]) =>
          syncStep<LockModel, LockReal>(`actor k${k}: acquire()${timingLabel(timing)}`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquire(op, a, timing);
            inActor(real, a, op, timing, async () => {
              real.held[a] = await real.lock.acquire();
            });
          }, compareLock),
        ),
      },
      {
        weight: 1,
        arbitrary: actor.map((k) =>
          syncStep<LockModel, LockReal>(`actor k${k}: acquireNowait()`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquireNowait(op, a);
            nowInActor(real, a, op, () => {
              real.held[a] = real.lock.acquireNowait();
            });
          }, compareLock),
        ),
      },
      {
        weight: 4,
        arbitrary: fc.tuple(who, way).map(([w, how]) =>
          syncStep<LockModel, LockReal>(`${whoLabel(w)}: give back by ${how}`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            model.giveBack(op, a, how);
            nowInActor(real, a, op, () => giveBack(real, a, how, () => real.lock.release()));
          }, compareLock),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(actor, actor).map(([o, k]) =>
          syncStep<LockModel, LockReal>(
            `actor k${k}: dispose of the acquisition of actor${o}`,
            (model) => model.idleActors().some((a) => a !== o),
            (model, real) => {
              const others = model.idleActors().filter((a) => a !== o);
              const a = others[k % others.length]!;
              const op = model.id();
              model.disposeOthers(op, o);
              nowInActor(real, a, op, () => (real.held[o] ?? real.last[o])?.[Symbol.dispose]());
            },
            compareLock,
          ),
        ),
      },
      {
        // release() hands the lock to the first waiter; cancelling that waiter in the same tick is too late.
        weight: 1,
        arbitrary: who.map((w) =>
          syncStep<LockModel, LockReal>(`${whoLabel(w)}: release() and at once cancel the first waiter`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            const first = model.queue[0]?.op;
            model.giveBack(op, a, "release()");
            if (first !== undefined) model.cancel(first);
            nowInActor(real, a, op, () => {
              try {
                giveBack(real, a, "release()", () => real.lock.release());
              } finally {
                if (first !== undefined) real.recorder.cancel(first);
              }
            });
          }, compareLock),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constant(
          syncStep<LockModel, LockReal>("release() from a task that does not hold the Lock", () => true, (model, real) => {
            const op = model.id();
            model.end(op, failed("Error"));
            real.recorder.now(op, () => real.lock.release());
          }, compareLock),
        ),
      },
      ...commonCommands<LockModel, LockReal>(compareLock).map((arbitrary, i) => ({ weight: i === 0 ? 2 : 1, arbitrary })),
    ),
  ],
  { maxCommands: 30, size: "medium" },
);

/** Cancels every waiter, then lets every holder release; nothing may be left parked. */
async function lockTeardown(model: LockModel, real: LockReal): Promise<void> {
  for (const op of model.pending()) {
    model.cancel(op);
    real.recorder.cancel(op);
  }
  await settle(real.trace);
  if (model.owner !== null) {
    const a = model.owner;
    const op = model.id();
    model.giveBack(op, a, "dispose");
    nowInActor(real, a, op, () => giveBack(real, a, "dispose", () => real.lock.release()));
    await settle(real.trace);
  }
  await stopActors(model, real, () => {
    expect(real.recorder.snapshot()).toEqual(snapshotOf(model.outcomes));
    expect(real.lock.statistics()).toEqual({ locked: false, owner: null, tasksWaiting: 0 });
  });
}

// =================================================================== Semaphore

class SemaphoreModel extends SyncModel {
  value: number;
  readonly max: number;
  readonly queue: Waiting[] = [];
  /** Units each actor holds (releasers not yet disposed). */
  readonly units: number[] = Array.from({ length: ACTORS }, () => 0);

  constructor(initial: number, max: number) {
    super(ACTORS);
    this.value = initial;
    this.max = max;
  }

  acquire(op: number, a: number, timing: Timing): void {
    if (timing.kind === "precancelled") return this.end(op, failed("Cancelled"));
    if (this.value > 0) {
      this.value--;
      this.units[a]!++;
      return this.end(op, ok());
    }
    this.queue.push({ actor: a, op });
    this.park(op, a, timing);
  }

  acquireNowait(op: number, a: number): void {
    if (this.value === 0) return this.end(op, failed("WouldBlock"));
    this.value--;
    this.units[a]!++;
    this.end(op, ok());
  }

  release(op: number): void {
    if (this.value === this.max) return this.end(op, failed("Error"));
    const next = this.queue.shift();
    if (next === undefined) this.value++;
    else {
      this.units[next.actor]!++;
      this.end(next.op, ok());
    }
    this.end(op, ok());
  }

  /** Disposing a releaser gives its unit back, once; its second disposal does nothing. */
  dispose(op: number, a: number, stale: boolean): void {
    if (stale || this.units[a] === 0) return this.end(op, ok());
    this.units[a]!--;
    this.release(op);
  }

  cancel(op: number): void {
    if (leave(this.queue, op)) this.end(op, failed("Cancelled"));
  }

  holders(): number[] {
    return this.units.flatMap((units, a) => (units > 0 ? [a] : []));
  }
}

interface SemaphoreReal extends SyncReal {
  readonly semaphore: Semaphore;
  readonly initial: number;
  /** Releasers each actor holds, oldest first, and those it has disposed of. */
  readonly units: Disposable[][];
  readonly spent: Disposable[][];
  /** Units taken and given back, counted by the real side alone. */
  acquired: number;
  released: number;
}

function compareSemaphore(model: SemaphoreModel, real: SemaphoreReal): void {
  const semaphore = real.semaphore;
  expect(semaphore.statistics(), "statistics()").toEqual({ tasksWaiting: model.queue.length });
  expect(semaphore.value, "value").toBe(model.value);
  expect(semaphore.max).toBe(model.max);
  // Not trusting the model: the value stays in range, nobody waits while a unit is free, and no unit is lost.
  expect(semaphore.value).toBeGreaterThanOrEqual(0);
  expect(semaphore.value).toBeLessThanOrEqual(semaphore.max);
  if (semaphore.statistics().tasksWaiting > 0) expect(semaphore.value, "value while tasks wait").toBe(0);
  expect(semaphore.value, "initial + units given back - units taken").toBe(real.initial + real.released - real.acquired);
}

function semaphoreRelease(real: SemaphoreReal): void {
  real.semaphore.release();
  real.released++;
}

const semaphoreCommands = fc.commands(
  [
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.tuple(actor, timingArbitrary).map(([k, timing]) =>
          syncStep<SemaphoreModel, SemaphoreReal>(`actor k${k}: acquire()${timingLabel(timing)}`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquire(op, a, timing);
            inActor(real, a, op, timing, async () => {
              real.units[a]!.push(await real.semaphore.acquire());
              real.acquired++;
            });
          }, compareSemaphore),
        ),
      },
      {
        weight: 1,
        arbitrary: actor.map((k) =>
          syncStep<SemaphoreModel, SemaphoreReal>(`actor k${k}: acquireNowait()`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquireNowait(op, a);
            nowInActor(real, a, op, () => {
              real.units[a]!.push(real.semaphore.acquireNowait());
              real.acquired++;
            });
          }, compareSemaphore),
        ),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(who, fc.boolean()).map(([w, stale]) =>
          syncStep<SemaphoreModel, SemaphoreReal>(`${whoLabel(w)}: dispose ${stale ? "a spent releaser" : "a releaser"}`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            model.dispose(op, a, stale);
            nowInActor(real, a, op, () => {
              if (stale) return real.spent[a]![0]?.[Symbol.dispose]();
              const releaser = real.units[a]!.shift();
              if (releaser === undefined) return;
              real.spent[a]!.push(releaser);
              releaser[Symbol.dispose]();
              real.released++;
            });
          }, compareSemaphore),
        ),
      },
      {
        // Any task may release a semaphore, holding a unit or not.
        weight: 2,
        arbitrary: actor.map((k) =>
          syncStep<SemaphoreModel, SemaphoreReal>(`actor k${k}: release()`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.release(op);
            nowInActor(real, a, op, () => semaphoreRelease(real));
          }, compareSemaphore),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constant(
          syncStep<SemaphoreModel, SemaphoreReal>("release() from the driver", () => true, (model, real) => {
            const op = model.id();
            const first = model.queue[0]?.op;
            model.release(op);
            if (first !== undefined) model.cancel(first); // too late: the unit was handed over
            real.recorder.now(op, () => {
              try {
                semaphoreRelease(real);
              } finally {
                if (first !== undefined) real.recorder.cancel(first);
              }
            });
          }, compareSemaphore),
        ),
      },
      ...commonCommands<SemaphoreModel, SemaphoreReal>(compareSemaphore).map((arbitrary, i) => ({ weight: i === 0 ? 2 : 1, arbitrary })),
    ),
  ],
  { maxCommands: 30, size: "medium" },
);

async function semaphoreTeardown(model: SemaphoreModel, real: SemaphoreReal): Promise<void> {
  for (const op of model.pending()) {
    model.cancel(op);
    real.recorder.cancel(op);
  }
  await settle(real.trace);
  await stopActors(model, real, () => compareSemaphore(model, real));
}

// =================================================================== CapacityLimiter

class LimiterModel extends SyncModel {
  total: number;
  /** The borrowing actors, in the order they got their token. */
  readonly borrowers: number[] = [];
  readonly queue: Waiting[] = [];

  constructor(total: number) {
    super(ACTORS);
    this.total = total;
  }

  acquire(op: number, a: number, timing: Timing): void {
    if (timing.kind === "precancelled") return this.end(op, failed("Cancelled"));
    if (this.borrowers.includes(a)) return this.end(op, failed("Error")); // one token per task
    if (this.borrowers.length < this.total) {
      this.borrowers.push(a);
      return this.end(op, ok());
    }
    this.queue.push({ actor: a, op });
    this.park(op, a, timing);
  }

  acquireNowait(op: number, a: number): void {
    if (this.borrowers.includes(a)) return this.end(op, failed("Error"));
    if (this.borrowers.length >= this.total) return this.end(op, failed("WouldBlock"));
    this.borrowers.push(a);
    this.end(op, ok());
  }

  giveBack(op: number, a: number, how: Way): void {
    const holds = this.borrowers.includes(a);
    if (how === "release()" && !holds) return this.end(op, failed("Error"));
    if (how !== "dispose stale" && holds) {
      this.borrowers.splice(this.borrowers.indexOf(a), 1);
      this.#handOut();
    }
    this.end(op, ok());
  }

  /** Task `caller` disposes of the token of `owner`: refused while `owner` still holds it, else a no-op. */
  disposeOthers(op: number, owner: number): void {
    this.end(op, this.borrowers.includes(owner) ? failed("Error") : ok());
  }

  setTotal(op: number, total: number): void {
    if (!(Number.isSafeInteger(total) || total === Infinity) || total < 1) return this.end(op, failed("RangeError"));
    this.total = total;
    this.#handOut();
    this.end(op, ok());
  }

  #handOut(): void {
    while (this.borrowers.length < this.total) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.borrowers.push(next.actor);
      this.end(next.op, ok());
    }
  }

  cancel(op: number): void {
    if (leave(this.queue, op)) this.end(op, failed("Cancelled"));
  }

  holders(): number[] {
    return [...this.borrowers];
  }

  statistics() {
    return { borrowedTokens: this.borrowers.length, totalTokens: this.total, borrowers: this.borrowers.map(name), tasksWaiting: this.queue.length };
  }
}

interface LimiterReal extends SyncReal {
  readonly limiter: CapacityLimiter;
}

function compareLimiter(model: LimiterModel, real: LimiterReal): void {
  const limiter = real.limiter;
  expect(limiter.statistics(), "statistics()").toEqual(model.statistics());
  expect(limiter.totalTokens).toBe(model.total);
  expect(limiter.borrowedTokens).toBe(model.borrowers.length);
  expect(limiter.availableTokens).toBe(model.total - model.borrowers.length);
  // Not trusting the model: the actors that believe they hold a token are exactly the limiter's borrowers.
  const holders = real.held.flatMap((held, a) => (held === null ? [] : [name(a)]));
  expect([...limiter.statistics().borrowers].sort(), "borrowers vs. actors holding a token").toEqual(holders);
}

const limiterCommands = fc.commands(
  [
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.tuple(actor, timingArbitrary).map(([k, timing]) =>
          syncStep<LimiterModel, LimiterReal>(`actor k${k}: acquire()${timingLabel(timing)}`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquire(op, a, timing);
            inActor(real, a, op, timing, async () => {
              real.held[a] = await real.limiter.acquire();
            });
          }, compareLimiter),
        ),
      },
      {
        weight: 1,
        arbitrary: actor.map((k) =>
          syncStep<LimiterModel, LimiterReal>(`actor k${k}: acquireNowait()`, hasIdleActor, (model, real) => {
            const a = idleActor(model, k);
            const op = model.id();
            model.acquireNowait(op, a);
            nowInActor(real, a, op, () => {
              real.held[a] = real.limiter.acquireNowait();
            });
          }, compareLimiter),
        ),
      },
      {
        weight: 4,
        arbitrary: fc.tuple(who, way).map(([w, how]) =>
          syncStep<LimiterModel, LimiterReal>(`${whoLabel(w)}: give back by ${how}`, hasIdleActor, (model, real) => {
            const a = chooseActor(model, w);
            const op = model.id();
            model.giveBack(op, a, how);
            nowInActor(real, a, op, () => giveBack(real, a, how, () => real.limiter.release()));
          }, compareLimiter),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(actor, actor).map(([o, k]) =>
          syncStep<LimiterModel, LimiterReal>(
            `actor k${k}: dispose of the token of actor${o}`,
            (model) => model.idleActors().some((a) => a !== o),
            (model, real) => {
              const others = model.idleActors().filter((a) => a !== o);
              const a = others[k % others.length]!;
              const op = model.id();
              model.disposeOthers(op, o);
              nowInActor(real, a, op, () => (real.held[o] ?? real.last[o])?.[Symbol.dispose]());
            },
            compareLimiter,
          ),
        ),
      },
      {
        weight: 2,
        arbitrary: fc.constantFrom(1, 2, 3, Infinity, 0, 1.5, -1).map((total) =>
          syncStep<LimiterModel, LimiterReal>(`totalTokens = ${total}`, () => true, (model, real) => {
            const op = model.id();
            model.setTotal(op, total);
            real.recorder.now(op, () => {
              real.limiter.totalTokens = total;
            });
          }, compareLimiter),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constant(
          syncStep<LimiterModel, LimiterReal>("release() from a task that holds no token", () => true, (model, real) => {
            const op = model.id();
            model.end(op, failed("Error"));
            real.recorder.now(op, () => real.limiter.release());
          }, compareLimiter),
        ),
      },
      ...commonCommands<LimiterModel, LimiterReal>(compareLimiter).map((arbitrary, i) => ({ weight: i === 0 ? 2 : 1, arbitrary })),
    ),
  ],
  { maxCommands: 30, size: "medium" },
);

async function limiterTeardown(model: LimiterModel, real: LimiterReal): Promise<void> {
  for (const op of model.pending()) {
    model.cancel(op);
    real.recorder.cancel(op);
  }
  await settle(real.trace);
  for (const a of [...model.borrowers]) {
    const op = model.id();
    model.giveBack(op, a, "release()");
    nowInActor(real, a, op, () => giveBack(real, a, "release()", () => real.limiter.release()));
  }
  await settle(real.trace);
  await stopActors(model, real, () => {
    compareLimiter(model, real);
    expect(real.limiter.borrowedTokens).toBe(0);
  });
}

// =================================================================== the properties

function makeReal<R extends SyncReal>(extra: Omit<R, keyof SyncReal>): (base: RealBase) => R {
  return (base) => makeSyncReal<R>(base, ACTORS, extra);
}

describe("Lock model", () => {
  it("is fair, exclusive and owned: every operation ends as the model says, and nothing is left parked", async () => {
    await assertProperty(
      fc.asyncProperty(lockCommands, async (cmds) => {
        await runModel(() => new LockModel(ACTORS), makeReal<LockReal>({ lock: new Lock() }), cmds, lockTeardown);
      }),
      { seed: 0x11_1001, numRuns: 100 },
    );
  }, PROPERTY_TIMEOUT);
});

describe("Semaphore model", () => {
  it("is fair and conserves units, with and without max: every operation ends as the model says", async () => {
    await assertProperty(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 }),
        fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
        semaphoreCommands,
        async (initial, headroom, cmds) => {
          const max = headroom === undefined ? Infinity : Math.max(1, initial + headroom);
          await runModel(
            () => new SemaphoreModel(initial, max),
            makeReal<SemaphoreReal>({
              semaphore: new Semaphore(initial, max === Infinity ? undefined : { max }),
              initial,
              units: Array.from({ length: ACTORS }, () => []),
              spent: Array.from({ length: ACTORS }, () => []),
              acquired: 0,
              released: 0,
            }),
            cmds,
            semaphoreTeardown,
          );
        },
      ),
      { seed: 0x11_1002, numRuns: 100 },
    );
  }, PROPERTY_TIMEOUT);
});

describe("CapacityLimiter model", () => {
  it("is fair, never lends more than totalTokens (however it changes), and tokens belong to their task", async () => {
    await assertProperty(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), limiterCommands, async (total, cmds) => {
        await runModel(() => new LimiterModel(total), makeReal<LimiterReal>({ limiter: new CapacityLimiter(total) }), cmds, limiterTeardown);
      }),
      { seed: 0x11_1003, numRuns: 100 },
    );
  }, PROPERTY_TIMEOUT);
});
