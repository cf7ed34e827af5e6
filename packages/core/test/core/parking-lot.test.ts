import { describe, expect, it } from "vitest";
import { CancelScope, Cancelled, checkpoint, taskGroup } from "../../src/index.js";
import { current } from "../../src/core/context.js";
import { ParkingLot } from "../../src/core/parking-lot.js";

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
});
