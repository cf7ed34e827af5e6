import { describe, expect, it } from "vitest";
import { Cancelled, CancelScope, now, sleep, sleepUntil, taskGroup, type TaskGroup } from "../../src/index.js";
import { Condition } from "../../src/sync/condition.js";
import { Lock } from "../../src/sync/lock.js";
import { virtual } from "../virtual-time.js";
import { inTask } from "./helpers.js";

/** Spawns tasks named after `names` that wait on `condition`, one per virtual ms, and log when they are back with the lock. */
async function spawnWaiters(tg: TaskGroup, condition: Condition, names: string[], log: string[]): Promise<void> {
  for (const name of names) {
    tg.spawn(async () => {
      using _ = await condition.acquire();
      await condition.wait();
      log.push(`${name} (owner ${condition.lock.statistics().owner})`);
    }, { name });
    await sleep(1);
  }
}

/** Spawns a task named `name` that waits on `condition` inside `scope` and logs how its wait() ended. */
function spawnCancellableWaiter(tg: TaskGroup, condition: Condition, scope: CancelScope, name: string, log: string[]): void {
  tg.spawn(async () => {
    await scope.run(async () => {
      using _ = await condition.acquire();
      try {
        await condition.wait();
        log.push(`${name} was notified`);
      } catch (error) {
        log.push(`${name} caught ${(error as Error).name} at ${now()}, holding the lock: ${condition.lock.statistics().owner === name}`);
        throw error;
      }
    });
  }, { name });
}

describe("Condition", () => {
  it("uses the lock it is given, or a new one", () => {
    const lock = new Lock();
    expect(new Condition(lock).lock).toBe(lock);
    expect(new Condition().lock).toBeInstanceOf(Lock);
    expect(() => new Condition({} as Lock)).toThrow(TypeError);
    expect(() => new Condition({} as Lock)).toThrow("Condition needs a Lock if given one; got an object");
  });

  it("notify() wakes the longest-waiting task, notify(n) the next n, each returning with the lock", virtual(async () => {
    const condition = new Condition();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      await spawnWaiters(tg, condition, ["a", "b", "c", "d"], log);
      expect(condition.statistics().tasksWaiting).toBe(4);
      await condition.acquire();
      condition.notify();
      condition.release();
      await sleep(1);
      expect(log).toEqual(["a (owner a)"]);
      await condition.acquire();
      condition.notify(2);
      condition.release();
      await sleep(1);
      expect(log).toEqual(["a (owner a)", "b (owner b)", "c (owner c)"]);
      expect(condition.statistics().tasksWaiting).toBe(1);
      await condition.acquire();
      condition.notifyAll();
      condition.release();
    });
    expect(log).toEqual(["a (owner a)", "b (owner b)", "c (owner c)", "d (owner d)"]);
    expect(condition.locked()).toBe(false);
  }));

  it("notifyAll() wakes every waiting task in the order they started waiting", virtual(async () => {
    const condition = new Condition();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      await spawnWaiters(tg, condition, ["c", "a", "b"], log);
      using _ = await condition.acquire();
      condition.notifyAll();
      expect(condition.statistics()).toEqual({
        tasksWaiting: 0,
        lockStatistics: { locked: true, owner: "main", tasksWaiting: 3 },
      });
    });
    expect(log).toEqual(["c (owner c)", "a (owner a)", "b (owner b)"]);
  }));

  it("a notified task runs only once the notifier releases the lock", virtual(async () => {
    const condition = new Condition();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      await spawnWaiters(tg, condition, ["waiter"], log);
      await condition.acquire();
      condition.notify();
      await sleep(5);
      expect(log).toEqual([]);
      condition.release();
    });
    expect(log).toEqual(["waiter (owner waiter)"]);
  }));

  it("notify() with no task waiting does nothing, and is not remembered for a later wait()", virtual(async () => {
    const condition = new Condition();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      await condition.acquire();
      condition.notify();
      condition.notifyAll();
      condition.release();
      await spawnWaiters(tg, condition, ["late"], log);
      await sleep(5);
      expect(log).toEqual([]);
      using _ = await condition.acquire();
      condition.notify();
    });
    expect(log).toEqual(["late (owner late)"]);
  }));

  it("wait() by a task that does not hold the lock throws, whether the lock is free or held by another task", virtual(async () => {
    const condition = new Condition();
    await expect(condition.wait()).rejects.toThrow('Condition.wait() was called by task "main", which does not hold the Condition\'s lock');
    await inTask("holder", async () => {
      using _ = await condition.acquire();
      await expect(inTask("other", () => condition.wait())).rejects.toThrow('called by task "other", which does not hold');
    });
    expect(condition.statistics().tasksWaiting).toBe(0);
  }));

  it("notify() and notifyAll() by a task that does not hold the lock throw", virtual(async () => {
    const condition = new Condition();
    expect(() => condition.notify()).toThrow("Condition.notify() was called by task \"main\", which does not hold the Condition's lock");
    expect(() => condition.notifyAll()).toThrow("Condition.notifyAll() was called by task");
    await inTask("holder", async () => {
      using _ = await condition.acquire();
      await expect(inTask("other", () => condition.notify())).rejects.toThrow("does not hold the Condition's lock");
    });
  }));

  it.each([
    [-1, "RangeError", RangeError],
    [1.5, "RangeError", RangeError],
    [Number.NaN, "RangeError", RangeError],
    ["2", "TypeError", TypeError],
  ])("notify(%s) throws a %s", async (n, _name, ErrorClass) => {
    const condition = new Condition();
    using _ = await condition.acquire();
    expect(() => condition.notify(n as number)).toThrow(ErrorClass);
  });

  it("wait() in a cancelled scope throws Cancelled at once and keeps the lock", virtual(async () => {
    const condition = new Condition();
    using _ = await condition.acquire();
    const scope = new CancelScope();
    scope.cancel();
    let error: unknown;
    await scope.run(async () => {
      const waiting = condition.wait();
      expect(condition.statistics()).toMatchObject({ tasksWaiting: 0, lockStatistics: { owner: "main" } });
      await waiting.catch((e: unknown) => ((error = e), Promise.reject(e)));
    });
    expect(error).toBeInstanceOf(Cancelled);
  }));

  it("a cancelled wait() gets the lock back before it throws, waiting for the holder to release it", virtual(async () => {
    const condition = new Condition();
    const log: string[] = [];
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      spawnCancellableWaiter(tg, condition, scope, "waiter", log);
      await sleep(1);
      await condition.acquire();
      scope.cancel();
      await sleep(1);
      // The cancelled waiter left the condition's queue and now waits, shielded, for the lock.
      expect(condition.statistics()).toMatchObject({ tasksWaiting: 0, lockStatistics: { owner: "main", tasksWaiting: 1 } });
      await sleepUntil(10);
      expect(log).toEqual([]);
      condition.release();
    });
    expect(log).toEqual(["waiter caught Cancelled at 10, holding the lock: true"]);
    expect(scope.cancelledCaught).toBe(true);
    expect(condition.locked()).toBe(false);
  }));

  it.each([
    ["before", false],
    ["after", true],
  ])("a wait() cancelled %s being notified gets the lock back, and takes no notification meant for the next waiter", (_when, notifiedFirst) =>
    virtual(async () => {
      const condition = new Condition();
      const log: string[] = [];
      const scope = new CancelScope();
      await taskGroup(async (tg) => {
        spawnCancellableWaiter(tg, condition, scope, "cancelled", log);
        await sleep(1);
        await spawnWaiters(tg, condition, ["patient"], log);
        await condition.acquire();
        if (notifiedFirst) condition.notify(); // moves "cancelled" onto the lock's queue, which cancellation takes it out of
        scope.cancel();
        await sleep(1);
        // The cancelled waiter now queues, shielded, for the lock; "patient" still waits for a notification.
        expect(condition.statistics()).toEqual({ tasksWaiting: 1, lockStatistics: { locked: true, owner: "main", tasksWaiting: 1 } });
        condition.notify();
        condition.release();
      });
      expect(log).toEqual(["cancelled caught Cancelled at 3, holding the lock: true", "patient (owner patient)"]);
    })(),
  );

  it("the acquisition that wait() gave up and took back is still released by using", virtual(async () => {
    const condition = new Condition();
    await taskGroup(async (tg) => {
      await spawnWaiters(tg, condition, ["waiter"], []);
      using _ = await condition.acquire();
      condition.notify();
    });
    expect(condition.locked()).toBe(false);
    expect(condition.lock.statistics().owner).toBe(null);
  }));

  it("statistics() is a frozen plain record", () => {
    const statistics = new Condition().statistics();
    expect(statistics).toEqual({ tasksWaiting: 0, lockStatistics: { locked: false, owner: null, tasksWaiting: 0 } });
    expect(Object.isFrozen(statistics)).toBe(true);
  });
});
