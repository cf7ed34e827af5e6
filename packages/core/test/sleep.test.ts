import { describe, expect, it } from "vitest";
import {
  Cancelled,
  CancelScope,
  checkpoint,
  moveOnAfter,
  now,
  sleep,
  sleepForever,
  sleepUntil,
  taskGroup,
} from "../src/index.js";
import { virtual } from "./virtual-time.js";

describe("sleep / sleepUntil / sleepForever", () => {
  it("sleep waits at least the given time on the runtime clock", virtual(async () => {
    const start = now();
    await sleep(3);
    expect(now() - start).toBe(3);
  }));

  it("wakes sleepers in deadline order", virtual(async () => {
    const order: number[] = [];
    await taskGroup(async (tg) => {
      for (const ms of [4, 1, 3, 2, 0]) {
        tg.spawn(async () => {
          await sleep(ms);
          order.push(ms);
        });
      }
    });
    expect(order).toEqual([0, 1, 2, 3, 4]);
  }));

  it("sleepUntil a time that has passed returns after a checkpoint", virtual(async () => {
    await sleepUntil(now() - 100);
    await sleepUntil(-Infinity);
    const scope = new CancelScope();
    scope.cancel();
    await scope.run(() => sleepUntil(now() - 1));
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("throws Cancelled at once in a cancelled scope, without sleeping", virtual(async () => {
    const scope = new CancelScope();
    scope.cancel();
    const start = now();
    await scope.run(() => sleep(10_000));
    expect(scope.cancelledCaught).toBe(true);
    expect(now()).toBe(start);
  }));

  it("sleepForever ends only by cancellation", virtual(async () => {
    const error = await moveOnAfter(1, async () => {
      try {
        await sleepForever();
      } catch (e) {
        return e;
      }
    });
    expect(error).toBeInstanceOf(Cancelled);
  }));

  it("sleep(Infinity) sleeps until cancelled", virtual(async () => {
    expect(await moveOnAfter(1, () => sleep(Infinity).then(() => "woke"))).toBeUndefined();
  }));

  it("rejects negative, NaN and non-number durations", virtual(async () => {
    await expect(sleep(-1)).rejects.toThrow(/sleep\(\) duration must be a non-negative number of milliseconds; got -1/);
    await expect(sleep(Number.NaN)).rejects.toThrow(RangeError);
    await expect(sleep("1" as never)).rejects.toThrow(TypeError);
    await expect(sleepUntil(Number.NaN)).rejects.toThrow(RangeError);
  }));
});

describe("checkpoint", () => {
  it("lets other tasks run", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      for (const name of ["a", "b"]) {
        tg.spawn(async () => {
          for (let i = 0; i < 3; i++) {
            log.push(`${name}${i}`);
            await checkpoint();
          }
        });
      }
    });
    expect(log).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
  }));

  it("throws Cancelled in a cancelled scope", virtual(async () => {
    const scope = new CancelScope();
    await scope.run(async () => {
      scope.cancel();
      await expect(checkpoint()).rejects.toBeInstanceOf(Cancelled);
    });
  }));

  it("observes a cancellation that arrives while it yields", virtual(async () => {
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await scope.run(async () => {
          await checkpoint();
          throw new Error("unreachable");
        });
      });
      tg.spawn(async () => {
        scope.cancel();
      });
    });
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("a loop of checkpoints does not starve timers, so a deadline still ends it", async () => {
    let rounds = 0;
    await moveOnAfter(2, async () => {
      for (;;) {
        rounds++;
        await checkpoint();
      }
    });
    expect(rounds).toBeGreaterThan(0);
  });
});

describe("now", () => {
  it("never goes backwards", () => {
    let last = now();
    for (let i = 0; i < 1000; i++) {
      const t = now();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
  });
});
