import { describe, expect, it } from "vitest";
import {
  CancelScope,
  currentEffectiveDeadline,
  moveOnAfter,
  now,
  run,
  sleep,
  sleepForever,
  taskGroup,
  type Clock,
  type ClockAlarm,
} from "../src/index.js";
import { currentStatistics } from "../src/lowlevel.js";

/** A clock whose time only moves when the test says so. */
class SteppedClock implements Clock {
  time = 1000;
  pending: Array<{ deadline: number; wake: () => void; cancelled: boolean }> = [];
  now(): number {
    return this.time;
  }
  wakeAt(deadline: number, wake: () => void): ClockAlarm {
    const alarm = { deadline, wake, cancelled: false };
    this.pending.push(alarm);
    return { cancel: () => void (alarm.cancelled = true) };
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.pending.filter((a) => !a.cancelled && a.deadline <= this.time);
    this.pending = this.pending.filter((a) => !due.includes(a));
    for (const alarm of due) alarm.wake();
  }
}

describe("run", () => {
  it("returns what main returns", async () => {
    expect(await run(async () => 42)).toBe(42);
    expect(await run(() => "sync")).toBe("sync");
  });

  it("rethrows what main throws", async () => {
    const error = new Error("main failed");
    await expect(run(async () => Promise.reject(error))).rejects.toBe(error);
  });

  it("uses the given clock for now(), sleeps and deadlines", async () => {
    const clock = new SteppedClock();
    const log: string[] = [];
    await run(
      async () => {
        expect(now()).toBe(1000);
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            await sleep(500);
            log.push(`slept until ${now()}`);
          });
          tg.spawn(async () => {
            const result = await moveOnAfter(200, () => sleepForever());
            log.push(`timed out at ${now()}, result ${result}`);
          });
          await new Promise((resolve) => setImmediate(resolve));
          expect(currentStatistics().deadlines).toBe(2);
          clock.advance(200);
          await new Promise((resolve) => setImmediate(resolve));
          clock.advance(300);
        });
      },
      { clock },
    );
    expect(log).toEqual(["timed out at 1200, result undefined", "slept until 1500"]);
  });

  it("gives each run its own root scope: a run is not cancelled by the scope that called it", async () => {
    const outer = new CancelScope();
    await outer.run(async () => {
      outer.cancel();
      // Outside any run, the implicit root: run() starts a fresh tree.
      expect(await run(async () => currentEffectiveDeadline())).toBe(Infinity);
    });
  });

  it("refuses to nest", async () => {
    await run(async () => {
      await expect(run(async () => 1)).rejects.toThrow(/run\(\) was called inside another run\(\)/);
    });
  });

  it("rejects a main that is not a function and a clock that is not a Clock", async () => {
    await expect(run(5 as never)).rejects.toThrow(/run\(\) main must be a function; got 5/);
    await expect(run(async () => {}, { clock: {} as never })).rejects.toThrow(/clock must be an object with now\(\) and wakeAt\(\)/);
  });

  it("counts the main task and spawned tasks as living until they finish", async () => {
    await run(async () => {
      expect(currentStatistics().tasksLiving).toBe(1);
      await taskGroup(async (tg) => {
        tg.spawn(() => sleep(1));
        tg.spawn(() => sleep(1));
        await sleep(0);
        expect(currentStatistics().tasksLiving).toBe(3);
      });
      expect(currentStatistics().tasksLiving).toBe(1);
    });
  });
});

describe("primitives outside any run", () => {
  it("work in the implicit root scope, which is never cancelled", async () => {
    expect(currentEffectiveDeadline()).toBe(Infinity);
    expect(await moveOnAfter(1, () => sleep(1000))).toBeUndefined();
    expect(await taskGroup(async () => "ok")).toBe("ok");
  });
});
