// One suite, run against every primitive that can serve as a lock: the
// behaviours a caller may rely on whichever of them it holds.
import { describe, expect, it } from "vitest";
import { Cancelled, CancelScope, WouldBlock, failAfter, sleep, taskGroup } from "../../src/index.js";
import { CapacityLimiter } from "../../src/sync/capacity-limiter.js";
import { Condition } from "../../src/sync/condition.js";
import { Lock } from "../../src/sync/lock.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { virtual } from "../virtual-time.js";
import { inTask } from "./helpers.js";

interface LockLike {
  acquire(): Promise<Disposable>;
  acquireNowait(): Disposable;
  release(): void;
}

const kinds: Array<[string, () => LockLike]> = [
  ["Lock", () => new Lock()],
  ["Semaphore(1)", () => new Semaphore(1)],
  ["CapacityLimiter(1)", () => new CapacityLimiter(1)],
  ["Condition", () => new Condition()],
];

/** Whether another task could take `lock` right now. */
async function freeForOthers(lock: LockLike): Promise<boolean> {
  return inTask("prober", () => {
    try {
      lock.acquireNowait()[Symbol.dispose]();
      return true;
    } catch (error) {
      if (error instanceof WouldBlock) return false;
      throw error;
    }
  });
}

describe.each(kinds)("%s as a lock", (_name, make) => {
  it("lets only one task at a time into the critical section, however they contend", virtual(async () => {
    const lock = make();
    let inside = 0;
    let mostInside = 0;
    let entries = 0;
    await taskGroup(async (tg) => {
      for (let i = 0; i < 8; i++) {
        tg.spawn(async () => {
          for (let round = 0; round < 3; round++) {
            using _ = await lock.acquire();
            inside++;
            entries++;
            mostInside = Math.max(mostInside, inside);
            await sleep((i * 7 + round * 3) % 5);
            inside--;
          }
        });
      }
    });
    expect(entries).toBe(24);
    expect(mostInside).toBe(1);
  }));

  it("gives the lock to waiting tasks in the order they started waiting", virtual(async () => {
    const lock = make();
    const order: number[] = [];
    await taskGroup(async (tg) => {
      await lock.acquire();
      // Spawned in one order, arriving at acquire() in another.
      for (const delay of [3, 1, 4, 2]) {
        tg.spawn(async () => {
          await sleep(delay);
          using _ = await lock.acquire();
          order.push(delay);
          await sleep(1);
        });
      }
      await sleep(10);
      lock.release();
    });
    expect(order).toEqual([1, 2, 3, 4]);
  }));

  it("hands a released lock to the first waiter, not to a newcomer", virtual(async () => {
    const lock = make();
    const order: string[] = [];
    await taskGroup(async (tg) => {
      await lock.acquire();
      tg.spawn(async () => {
        using _ = await lock.acquire();
        order.push("waiter");
      });
      await sleep(1);
      lock.release();
      expect(() => lock.acquireNowait()).toThrow(WouldBlock);
      tg.spawn(async () => {
        using _ = await lock.acquire();
        order.push("newcomer");
      });
    });
    expect(order).toEqual(["waiter", "newcomer"]);
  }));

  it("acquireNowait throws WouldBlock while another task holds it", virtual(async () => {
    const lock = make();
    await inTask("holder", async () => {
      using _ = await lock.acquire();
      await expect(inTask("other", () => lock.acquireNowait())).rejects.toBeInstanceOf(WouldBlock);
    });
    expect(await freeForOthers(lock)).toBe(true);
  }));

  it("a task cancelled while waiting to acquire holds nothing, and the next waiter gets the lock", virtual(async () => {
    const lock = make();
    const log: string[] = [];
    await failAfter(1000, () =>
      taskGroup(async (tg) => {
        await lock.acquire();
        const scope = new CancelScope();
        tg.spawn(async () => {
          await scope.run(async () => {
            try {
              await lock.acquire();
              log.push("cancelled task acquired");
            } catch (error) {
              log.push(error instanceof Cancelled ? "cancelled task gave up" : `unexpected ${String(error)}`);
              throw error;
            }
          });
        });
        tg.spawn(async () => {
          await sleep(1);
          using _ = await lock.acquire();
          log.push("second waiter acquired");
        });
        await sleep(2);
        scope.cancel();
        await sleep(1);
        log.push("holder releases");
        lock.release();
      }),
    );
    expect(log).toEqual(["cancelled task gave up", "holder releases", "second waiter acquired"]);
    expect(await freeForOthers(lock)).toBe(true);
  }));

  it("using releases the lock at the end of the block, however the block is left", virtual(async () => {
    const lock = make();
    {
      using _ = await lock.acquire();
      expect(await freeForOthers(lock)).toBe(false);
    }
    expect(await freeForOthers(lock)).toBe(true);
    await expect(
      (async () => {
        using _ = await lock.acquire();
        throw new Error("boom");
      })(),
    ).rejects.toThrow("boom");
    expect(await freeForOthers(lock)).toBe(true);
  }));

  it("disposing an acquisition twice releases it once", virtual(async () => {
    const lock = make();
    const acquisition = await lock.acquire();
    acquisition[Symbol.dispose]();
    acquisition[Symbol.dispose]();
    await inTask("first", async () => {
      using _ = lock.acquireNowait();
      expect(await freeForOthers(lock)).toBe(false);
    });
  }));

  it("acquire in a cancelled scope throws Cancelled without acquiring, even when the lock is free", virtual(async () => {
    const lock = make();
    const scope = new CancelScope();
    scope.cancel();
    let error: unknown;
    await scope.run(async () => {
      try {
        await lock.acquire();
      } catch (e) {
        error = e;
        throw e;
      }
    });
    expect(error).toBeInstanceOf(Cancelled);
    expect(await freeForOthers(lock)).toBe(true);
  }));
});
