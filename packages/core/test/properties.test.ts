// Property tests: random trees of task groups with random sleeps, failures,
// cancellations and deadlines, run on virtual time, with the edges mixed in:
// values thrown that are not Errors (some cannot become strings), tasks that
// return thenables settling twice, and spawns landing around the moment a group
// closes. Whatever the tree, no task outlives its group, every finally block
// runs, and every failure reaches the top, once, as it was thrown.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TaskGroupError, isCancelled, moveOnAfter, run, sleep, taskGroup, type TaskGroup } from "../src/index.js";
import { fcOptions } from "./fast-check.js";
import { MockClock } from "./virtual-time.js";

/** How a failing task throws: an Error, an object that cannot become a string, or a string. */
type ThrowKind = "error" | "no-prototype" | "string";
/** How a task's function hands its end to the group: its promise, or a thenable that settles twice. */
type Settle = "promise" | "fulfil-twice" | "fulfil-then-reject";

interface Plan {
  sleep: number;
  fail: boolean;
  throwKind: ThrowKind;
  /** Fail (instead of unwinding quietly) if its sleep is cancelled: a failure during cleanup. */
  failWhenCancelled: boolean;
  /** Cancel this task's group after this long, if set. */
  cancelAfter: number | null;
  /** Run this task's group under moveOnAfter(deadline), if set. */
  deadline: number | null;
  settle: Settle;
  /** As it ends, try to spawn into its parent's group this many microtasks later, if set. */
  lateSpawn: number | null;
  children: Plan[];
}

function planArbitrary(depth: number): fc.Arbitrary<Plan> {
  return fc.record({
    sleep: fc.integer({ min: 0, max: 20 }),
    fail: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    throwKind: fc.constantFrom<ThrowKind>("error", "no-prototype", "string"),
    failWhenCancelled: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    cancelAfter: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null, freq: 4 }),
    deadline: fc.option(fc.integer({ min: 0, max: 25 }), { nil: null, freq: 5 }),
    settle: fc.constantFrom<Settle>("promise", "promise", "fulfil-twice", "fulfil-then-reject"),
    lateSpawn: fc.option(fc.integer({ min: 0, max: 8 }), { nil: null, freq: 3 }),
    children: depth === 0 ? fc.constant([]) : fc.array(planArbitrary(depth - 1), { maxLength: 3 }),
  });
}

class Failure extends Error {}

interface Record {
  started: Set<string>;
  finallies: Set<string>;
  ended: Set<string>;
  thrown: Set<unknown>;
  violations: string[];
}

/** The group a task was spawned into, and whether that group's taskGroup() has returned. */
interface Parent {
  tg: TaskGroup;
  returned: { value: boolean };
}

/** A thenable over `promise` that misbehaves after its first settlement, as `settle` says. */
function settling(promise: Promise<void>, settle: Settle): PromiseLike<void> {
  if (settle === "promise") return promise;
  return {
    then: ((onFulfilled: () => void, onRejected: (error: unknown) => void) => {
      promise.then(
        () => {
          onFulfilled();
          if (settle === "fulfil-twice") onFulfilled();
          else onRejected(new Error("a late rejection that must not count"));
        },
        (error: unknown) => {
          onRejected(error);
          onFulfilled();
        },
      );
    }) as PromiseLike<void>["then"],
  };
}

function thrownValue(kind: ThrowKind, path: string, why: string): unknown {
  if (kind === "error") return new Failure(`${path} ${why}`);
  if (kind === "string") return `${path} ${why}`;
  return Object.assign(Object.create(null) as object, { path, why });
}

/** `attempt` runs `hops` microtasks from now. */
function afterMicrotasks(hops: number, attempt: () => void): void {
  if (hops === 0) attempt();
  else queueMicrotask(() => afterMicrotasks(hops - 1, attempt));
}

async function execute(plan: Plan, path: string, record: Record, parent: Parent | null): Promise<void> {
  record.started.add(path);
  const childPaths = plan.children.map((_, i) => `${path}.${i}`);
  const returned = { value: false };
  try {
    try {
      const group = (): Promise<unknown> => taskGroup(async (tg) => {
        const self: Parent = { tg, returned };
        plan.children.forEach((child, i) =>
          tg.spawn(() => settling(execute(child, childPaths[i]!, record, self), child.settle) as Promise<void>),
        );
        if (plan.cancelAfter !== null) {
          const after = plan.cancelAfter;
          tg.spawn(async () => {
            await sleep(after);
            tg.cancelScope.cancel();
          });
        }
        const fail = (why: string): never => {
          const failure = thrownValue(plan.throwKind, path, why);
          record.thrown.add(failure);
          throw failure;
        };
        try {
          await sleep(plan.sleep);
        } catch (error) {
          if (isCancelled(error) && plan.failWhenCancelled) fail("failed while being cancelled");
          throw error;
        }
        if (plan.fail) fail("failed");
      });
      if (plan.deadline === null) await group();
      else await moveOnAfter(plan.deadline, group);
    } finally {
      returned.value = true;
      for (const child of childPaths) if (!record.ended.has(child)) record.violations.push(`${child} outlived the group of ${path}`);
    }
  } finally {
    record.finallies.add(path);
    record.ended.add(path);
    if (parent !== null && plan.lateSpawn !== null) {
      // Around the moment the parent's group stops waiting: accepted, the task must end inside it.
      afterMicrotasks(plan.lateSpawn, () => {
        try {
          parent.tg.spawn(async () => {
            await null;
            if (parent.returned.value) record.violations.push(`a task spawned late by ${path} ran after its group had returned`);
          });
        } catch {
          // Refused: the group had finished.
        }
      });
    }
  }
}

function leaves(error: unknown): unknown[] {
  return error instanceof TaskGroupError ? error.errors.flatMap(leaves) : [error];
}

describe("task group properties", () => {
  it("no task outlives its group, every finally runs, every failure reaches the top exactly once, as thrown", async () => {
    await fc.assert(
      fc.asyncProperty(planArbitrary(3), async (plan) => {
        const record: Record = { started: new Set(), finallies: new Set(), ended: new Set(), thrown: new Set(), violations: [] };
        let outcome: unknown = "returned";
        await run(
          async () => {
            try {
              await execute(plan, "root", record, null);
            } catch (error) {
              outcome = error;
            }
          },
          { clock: new MockClock({ autojumpThreshold: 0 }) },
        );
        expect(record.violations).toEqual([]);
        expect([...record.finallies].sort()).toEqual([...record.started].sort());
        if (record.thrown.size === 0) {
          expect(outcome).toBe("returned");
        } else {
          const reported = leaves(outcome);
          expect(reported.some(isCancelled)).toBe(false);
          expect(new Set(reported).size).toBe(reported.length);
          expect(new Set(reported)).toEqual(record.thrown);
        }
      }),
      fcOptions(150),
    );
  });
});
