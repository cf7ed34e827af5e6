import { describe, expect, it } from "vitest";
import { CancelScope, WouldBlock, now, sleep, taskGroup } from "../../src/index.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { virtual } from "../virtual-time.js";
import { inTask } from "./helpers.js";

describe("Semaphore", () => {
  it("acquire() takes a unit of value and release() gives it back", virtual(async () => {
    const semaphore = new Semaphore(2);
    expect([semaphore.value, semaphore.max]).toEqual([2, Infinity]);
    const first = await semaphore.acquire();
    const second = semaphore.acquireNowait();
    expect(semaphore.value).toBe(0);
    expect(() => semaphore.acquireNowait()).toThrow(WouldBlock);
    first[Symbol.dispose]();
    expect(semaphore.value).toBe(1);
    semaphore.release();
    expect(semaphore.value).toBe(2);
    second[Symbol.dispose](); // no max: a release beyond the initial value is allowed
    expect(semaphore.value).toBe(3);
  }));

  it("acquire() at 0 waits until another task releases", virtual(async () => {
    const semaphore = new Semaphore(0);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(5);
        semaphore.release();
      });
      await semaphore.acquire();
      expect(now()).toBe(5);
    });
  }));

  it("release() with tasks waiting hands the unit to the first of them and leaves value at 0", virtual(async () => {
    const semaphore = new Semaphore(0, { max: 1 });
    const woken: string[] = [];
    await taskGroup(async (tg) => {
      for (const name of ["first", "second"]) {
        tg.spawn(async () => {
          await semaphore.acquire();
          woken.push(name);
        });
        await sleep(1);
      }
      expect(semaphore.statistics()).toEqual({ tasksWaiting: 2 });
      semaphore.release();
      expect(semaphore.value).toBe(0);
      expect(semaphore.statistics()).toEqual({ tasksWaiting: 1 });
      await sleep(1);
      expect(woken).toEqual(["first"]);
      semaphore.release();
    });
    expect(woken).toEqual(["first", "second"]);
    expect(semaphore.value).toBe(0);
  }));

  it("belongs to no task: one task may release what another acquired", virtual(async () => {
    const semaphore = new Semaphore(1);
    await inTask("taker", () => semaphore.acquire());
    expect(semaphore.value).toBe(0);
    await inTask("giver", () => semaphore.release());
    expect(semaphore.value).toBe(1);
  }));

  it("release() beyond max throws, says it was released too many times, and changes nothing", virtual(async () => {
    const semaphore = new Semaphore(1, { max: 1 });
    expect(() => semaphore.release()).toThrow("Semaphore.release() would raise the value above its max of 1: the semaphore was released too many times");
    expect(semaphore.value).toBe(1);
    const acquisition = await semaphore.acquire();
    acquisition[Symbol.dispose]();
    acquisition[Symbol.dispose]();
    expect(semaphore.value).toBe(1);
  }));

  it("a task cancelled while waiting takes nothing, so the next release() raises the value", virtual(async () => {
    const semaphore = new Semaphore(0);
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => semaphore.acquire()));
      await sleep(1);
      expect(semaphore.statistics().tasksWaiting).toBe(1);
      scope.cancel();
      expect(semaphore.statistics().tasksWaiting).toBe(0);
    });
    expect(scope.cancelledCaught).toBe(true);
    semaphore.release();
    expect(semaphore.value).toBe(1);
  }));

  it.each([
    [-1, "RangeError", RangeError, "Semaphore initial value must be a non-negative integer; got -1"],
    [Number.NaN, "RangeError", RangeError, "got NaN"],
    [1.5, "RangeError", RangeError, "got 1.5"],
    [Infinity, "RangeError", RangeError, "got Infinity"],
    ["1", "TypeError", TypeError, 'Semaphore initial value must be a number; got "1"'],
  ])("new Semaphore(%o) throws a %s", (initial, _name, ErrorClass, message) => {
    expect(() => new Semaphore(initial as number)).toThrow(ErrorClass);
    expect(() => new Semaphore(initial as number)).toThrow(message);
  });

  it.each([
    [{ max: 1 }, "RangeError", RangeError, "Semaphore max must be an integer no less than the initial value 2, or Infinity; got 1"],
    [{ max: 2.5 }, "RangeError", RangeError, "got 2.5"],
    [{ max: Number.NaN }, "RangeError", RangeError, "got NaN"],
    [{ max: -Infinity }, "RangeError", RangeError, "got -Infinity"],
    [{ max: "3" }, "TypeError", TypeError, 'Semaphore max must be a number; got "3"'],
    [5, "TypeError", TypeError, "Semaphore options must be an object if given; got 5"],
  ])("new Semaphore(2, %o) throws a %s", (options, _name, ErrorClass, message) => {
    expect(() => new Semaphore(2, options as { max?: number })).toThrow(ErrorClass);
    expect(() => new Semaphore(2, options as { max?: number })).toThrow(message);
  });

  it("accepts max equal to the initial value, and an explicit Infinity", () => {
    expect(new Semaphore(2, { max: 2 }).max).toBe(2);
    expect(new Semaphore(0, { max: Infinity }).max).toBe(Infinity);
    expect(new Semaphore(0, {}).max).toBe(Infinity);
  });

  it("statistics() is a frozen plain record", () => {
    const statistics = new Semaphore(3).statistics();
    expect(statistics).toEqual({ tasksWaiting: 0 });
    expect(Object.isFrozen(statistics)).toBe(true);
  });
});
