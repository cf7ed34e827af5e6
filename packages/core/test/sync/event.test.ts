import { describe, expect, it } from "vitest";
import { Cancelled, CancelScope, moveOnAfter, now, sleep, taskGroup } from "../../src/index.js";
import { Event } from "../../src/sync/event.js";
import { virtual } from "../virtual-time.js";

describe("Event", () => {
  it("starts unset and stays set once set()", () => {
    const event = new Event();
    expect(event.isSet()).toBe(false);
    event.set();
    expect(event.isSet()).toBe(true);
    event.set();
    expect(event.isSet()).toBe(true);
  });

  it("has no clear(): a set event cannot be unset", () => {
    expect("clear" in new Event()).toBe(false);
  });

  it("set() wakes every waiting task, in the order they started waiting", virtual(async () => {
    const event = new Event();
    const woken: string[] = [];
    await taskGroup(async (tg) => {
      for (const [name, delay] of [["c", 3], ["a", 1], ["b", 2]] as const) {
        tg.spawn(async () => {
          await sleep(delay);
          await event.wait();
          woken.push(`${name}@${now()}`);
        });
      }
      await sleep(10);
      expect(woken).toEqual([]);
      expect(event.statistics()).toEqual({ tasksWaiting: 3 });
      event.set();
      expect(event.statistics()).toEqual({ tasksWaiting: 0 });
    });
    expect(woken).toEqual(["a@10", "b@10", "c@10"]);
  }));

  it("wait() on a set event returns without blocking", virtual(async () => {
    const event = new Event();
    event.set();
    const start = now();
    await event.wait();
    expect(now()).toBe(start);
  }));

  it("wait() on a set event is still a checkpoint: it throws Cancelled in a cancelled scope", virtual(async () => {
    const event = new Event();
    event.set();
    const scope = new CancelScope();
    scope.cancel();
    let error: unknown;
    await scope.run(() => event.wait().catch((e: unknown) => ((error = e), Promise.reject(e))));
    expect(error).toBeInstanceOf(Cancelled);
  }));

  it("wait() in a cancelled scope throws Cancelled at once without joining the waiters", virtual(async () => {
    const event = new Event();
    const scope = new CancelScope();
    scope.cancel();
    let error: unknown;
    await scope.run(async () => {
      const waiting = event.wait();
      expect(event.statistics().tasksWaiting).toBe(0);
      await waiting.catch((e: unknown) => ((error = e), Promise.reject(e)));
    });
    expect(error).toBeInstanceOf(Cancelled);
  }));

  it("a task cancelled while waiting leaves the waiters, and set() still wakes the others", virtual(async () => {
    const event = new Event();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await moveOnAfter(5, () => event.wait());
        log.push(`gave up@${now()}`);
      });
      tg.spawn(async () => {
        await event.wait();
        log.push(`woken@${now()}`);
      });
      await sleep(1);
      expect(event.statistics().tasksWaiting).toBe(2);
      await sleep(9);
      expect(event.statistics().tasksWaiting).toBe(1);
      event.set();
    });
    expect(log).toEqual(["gave up@5", "woken@10"]);
  }));

  it("statistics() is a frozen plain record", () => {
    const statistics = new Event().statistics();
    expect(statistics).toEqual({ tasksWaiting: 0 });
    expect(Object.isFrozen(statistics)).toBe(true);
  });
});
