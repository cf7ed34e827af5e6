import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CancelScope, Cancelled, checkpoint, taskGroup } from "../../src/index.js";
import { nodeOf } from "../../src/cancel-scope.js";
import { current } from "../../src/core/context.js";
import type { Waiter } from "../../src/core/park.js";
import { ParkingLot } from "../../src/core/parking-lot.js";
import { fcOptions } from "../fast-check.js";

describe("ParkingLot", () => {
  it("wakes waiters in the order they parked", async () => {
    const lot = new ParkingLot<string>();
    const woken: string[] = [];
    await taskGroup(async (tg) => {
      for (const name of ["a", "b", "c"]) {
        tg.spawn(async () => {
          woken.push(`${name}:${await lot.park(current(), name).promise}`);
        });
      }
      await checkpoint();
      expect(lot.size).toBe(3);
      expect([...lot].map((w) => w.value)).toEqual(["a", "b", "c"]);
      lot.wakeFirst("1");
      lot.wakeAll("2");
      expect(lot.size).toBe(0);
      expect(lot.wakeFirst("none")).toBe(false);
    });
    expect(woken).toEqual(["a:1", "b:2", "c:2"]);
  });

  it("takes a cancelled waiter out of the lot before rejecting it, wherever it was moved", async () => {
    const first = new ParkingLot();
    const second = new ParkingLot();
    const aborted: unknown[] = [];
    const scope = new CancelScope();
    await scope.run(async () => {
      const waiter = first.park(current(), undefined, "owner", (w) => aborted.push(w.owner));
      first.moveTo(second, 5);
      expect([first.size, second.size]).toEqual([0, 1]);
      scope.cancel();
      expect(second.size).toBe(0);
      expect(aborted).toEqual(["owner"]);
      await expect(waiter.promise).rejects.toBeInstanceOf(Cancelled);
    });
  });

  it("fails every waiter with an error, in order", async () => {
    const lot = new ParkingLot();
    const a = lot.park(current());
    const b = lot.park(current());
    const middle = lot.park(current());
    lot.remove(middle);
    middle.wake();
    const error = new Error("closed");
    lot.failAll(error);
    await expect(a.promise).rejects.toBe(error);
    await expect(b.promise).rejects.toBe(error);
  });

  it("keeps two lots and the cancel node's waiter list in order under any mix of park, shift, remove and moveTo", async () => {
    type Op = { op: "park" | "shift" | "remove" | "move"; lot: 0 | 1; pick: number };
    const op = fc.record({
      op: fc.constantFrom("park", "park", "shift", "remove", "move"),
      lot: fc.constantFrom(0 as const, 1 as const),
      pick: fc.nat(20),
    }) as fc.Arbitrary<Op>;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 80 }), async (ops) => {
        const scope = new CancelScope();
        const woken: number[] = [];
        const aborted: number[] = [];
        await scope.run(async () => {
          const lots = [new ParkingLot<void>(), new ParkingLot<void>()] as const;
          const model: [Waiter<void>[], Waiter<void>[]] = [[], []];
          const parked: Waiter<void>[] = []; // the waiters still waiting, in the order they parked: the node's order
          let id = 0;
          for (const { op, lot, pick } of ops) {
            const queue = model[lot];
            if (op === "park") {
              const waiter = lots[lot].park(current(), id++);
              waiter.promise.then(
                () => woken.push(waiter.value as number),
                () => aborted.push(waiter.value as number),
              );
              queue.push(waiter);
              parked.push(waiter);
            } else if (op === "shift") {
              const waiter = lots[lot].shift();
              expect(waiter).toBe(queue.shift() ?? null);
              if (waiter !== null) {
                waiter.wake();
                parked.splice(parked.indexOf(waiter), 1);
              }
            } else if (op === "remove" && queue.length > 0) {
              const waiter = queue.splice(pick % queue.length, 1)[0]!;
              lots[lot].remove(waiter);
              lots[lot].remove(waiter); // a second time does nothing
              waiter.wake();
              parked.splice(parked.indexOf(waiter), 1);
            } else if (op === "move") {
              const other = lot === 0 ? 1 : 0;
              const count = pick % 4;
              lots[lot].moveTo(lots[other], count);
              model[other].push(...queue.splice(0, count));
            }
            for (const i of [0, 1] as const) {
              expect([...lots[i]]).toEqual(model[i]);
              expect(lots[i].size).toBe(model[i].length);
              expect(lots[i].first).toBe(model[i][0] ?? null);
              expect(lots[i].last).toBe(model[i].at(-1) ?? null);
            }
            expect(nodeOf(scope).waiters()).toEqual(parked);
          }
          // Cancelling takes every waiter out of its lot and its node, in the order they parked.
          scope.cancel();
          expect([lots[0].size, lots[1].size, lots[0].first, lots[1].last]).toEqual([0, 0, null, null]);
          expect(nodeOf(scope).waiters()).toEqual([]);
          expect(aborted).toEqual([]); // rejected, but their callbacks have not run yet
        });
        await checkpoint();
        expect(aborted).toEqual([...aborted].sort((a, b) => a - b)); // in the order they parked
        expect(aborted.length + woken.length).toBe(ops.filter((o) => o.op === "park").length);
      }),
      fcOptions(200),
    );
  });
});

