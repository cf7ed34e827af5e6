// Property tests: random trees of task groups with random sleeps, failures and
// cancellations, run on virtual time. Whatever the tree, no task outlives its
// group, every finally block runs, and every failure reaches the top, once.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TaskGroupError, isCancelled, run, sleep, taskGroup } from "../src/index.js";
import { MockClock } from "./virtual-time.js";

interface Plan {
  sleep: number;
  fail: boolean;
  /** Fail (instead of unwinding quietly) if its sleep is cancelled: a failure during cleanup. */
  failWhenCancelled: boolean;
  /** Cancel this task's group after this long, if set. */
  cancelAfter: number | null;
  children: Plan[];
}

function planArbitrary(depth: number): fc.Arbitrary<Plan> {
  return fc.record({
    sleep: fc.integer({ min: 0, max: 20 }),
    fail: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    failWhenCancelled: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    cancelAfter: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null, freq: 4 }),
    children: depth === 0 ? fc.constant([]) : fc.array(planArbitrary(depth - 1), { maxLength: 3 }),
  });
}

class Failure extends Error {}

interface Record {
  started: Set<string>;
  finallies: Set<string>;
  ended: Set<string>;
  thrown: Set<Failure>;
  violations: string[];
}

async function execute(plan: Plan, path: string, record: Record): Promise<void> {
  record.started.add(path);
  const childPaths = plan.children.map((_, i) => `${path}.${i}`);
  try {
    try {
      await taskGroup(async (tg) => {
        plan.children.forEach((child, i) => tg.spawn(() => execute(child, childPaths[i]!, record)));
        if (plan.cancelAfter !== null) {
          const after = plan.cancelAfter;
          tg.spawn(async () => {
            await sleep(after);
            tg.cancelScope.cancel();
          });
        }
        const fail = (why: string): never => {
          const failure = new Failure(`${path} ${why}`);
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
    } finally {
      for (const child of childPaths) if (!record.ended.has(child)) record.violations.push(`${child} outlived the group of ${path}`);
    }
  } finally {
    record.finallies.add(path);
    record.ended.add(path);
  }
}

function leaves(error: unknown): unknown[] {
  return error instanceof TaskGroupError ? error.errors.flatMap(leaves) : [error];
}

describe("task group properties", () => {
  it("no task outlives its group, every finally runs, every failure reaches the top exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(planArbitrary(3), async (plan) => {
        const record: Record = { started: new Set(), finallies: new Set(), ended: new Set(), thrown: new Set(), violations: [] };
        let outcome: unknown = "returned";
        await run(
          async () => {
            try {
              await execute(plan, "root", record);
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
      { numRuns: 150 },
    );
  });
});
