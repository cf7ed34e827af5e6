import { describe, expect, it } from "vitest";
import { CancelScope, sleep, taskGroup } from "../../src/index.js";
import { Lock } from "../../src/sync/lock.js";
import { virtual } from "../virtual-time.js";
import { inTask } from "./helpers.js";

describe("Lock", () => {
  it("is locked while a task holds it", virtual(async () => {
    const lock = new Lock();
    expect(lock.locked()).toBe(false);
    const acquisition = await lock.acquire();
    expect(lock.locked()).toBe(true);
    acquisition[Symbol.dispose]();
    expect(lock.locked()).toBe(false);
  }));

  it("release() by a task that does not hold it throws, naming both tasks, and the lock stays held", virtual(async () => {
    const lock = new Lock();
    await inTask("holder", async () => {
      using _ = await lock.acquire();
      await expect(inTask("intruder", () => lock.release())).rejects.toThrow(
        'Lock.release() was called by task "intruder", but the Lock is held by task "holder"',
      );
      expect(lock.statistics().owner).toBe("holder");
    });
    expect(lock.locked()).toBe(false);
  }));

  it("release() of a lock nobody holds throws", virtual(async () => {
    const lock = new Lock();
    expect(() => lock.release()).toThrow("but the Lock is not held by any task");
  }));

  it("acquiring it again from the task that holds it throws instead of deadlocking", virtual(async () => {
    const lock = new Lock();
    await inTask("worker", async () => {
      using _ = await lock.acquire();
      await expect(lock.acquire()).rejects.toThrow('task "worker" already holds this Lock');
      expect(() => lock.acquireNowait()).toThrow('task "worker" already holds this Lock');
      expect(lock.statistics()).toEqual({ locked: true, owner: "worker", tasksWaiting: 0 });
    });
  }));

  it("acquire() reports misuse by rejecting, not by throwing synchronously", virtual(async () => {
    const lock = new Lock();
    await lock.acquire();
    let promise: Promise<Disposable> | undefined;
    expect(() => (promise = lock.acquire())).not.toThrow();
    await expect(promise).rejects.toThrow("already holds this Lock");
    lock.release();
  }));

  it("belongs to the waiter it was handed to as soon as it is released", virtual(async () => {
    const lock = new Lock();
    await taskGroup(async (tg) => {
      await lock.acquire();
      tg.spawn(async () => {
        using _ = await lock.acquire();
      }, { name: "waiter" });
      await sleep(1);
      expect(lock.statistics()).toEqual({ locked: true, owner: "main", tasksWaiting: 1 });
      lock.release();
      expect(lock.statistics()).toEqual({ locked: true, owner: "waiter", tasksWaiting: 0 });
    });
    expect(lock.statistics()).toEqual({ locked: false, owner: null, tasksWaiting: 0 });
  }));

  it("a waiter cancelled after the lock was handed to it still holds it and releases it", virtual(async () => {
    const lock = new Lock();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      await lock.acquire();
      const scope = new CancelScope();
      tg.spawn(async () => {
        await scope.run(async () => {
          using _ = await lock.acquire();
          log.push(`acquired, owner ${lock.statistics().owner}`);
          await sleep(1);
          log.push("not reached");
        });
      }, { name: "waiter" });
      await sleep(1);
      lock.release();
      scope.cancel();
    });
    expect(log).toEqual(["acquired, owner waiter"]);
    expect(lock.locked()).toBe(false);
  }));

  it("disposing an acquisition that was already released does nothing, even once another task holds the lock", virtual(async () => {
    const lock = new Lock();
    const stale = await lock.acquire();
    lock.release();
    await inTask("next", async () => {
      using _ = await lock.acquire();
      await inTask("stale holder", () => stale[Symbol.dispose]());
      stale[Symbol.dispose]();
      expect(lock.statistics().owner).toBe("next");
    });
  }));

  it("statistics() is a frozen plain record", virtual(async () => {
    const statistics = new Lock().statistics();
    expect(statistics).toEqual({ locked: false, owner: null, tasksWaiting: 0 });
    expect(Object.isFrozen(statistics)).toBe(true);
  }));

  it("shows no internal state as properties", () => {
    expect(Object.keys(new Lock())).toEqual([]);
  });
});
