import { describe, expect, it } from "vitest";
import { WouldBlock, now, sleep, sleepUntil, taskGroup } from "../../src/index.js";
import { CapacityLimiter } from "../../src/sync/capacity-limiter.js";
import { virtual } from "../virtual-time.js";
import { inTask } from "./helpers.js";

describe("CapacityLimiter", () => {
  it("lends each task one token, up to totalTokens at once", virtual(async () => {
    const limiter = new CapacityLimiter(2);
    let inside = 0;
    let mostInside = 0;
    await taskGroup(async (tg) => {
      for (let i = 0; i < 6; i++) {
        tg.spawn(async () => {
          using _ = await limiter.acquire();
          mostInside = Math.max(mostInside, ++inside);
          await sleep(1 + (i % 3));
          inside--;
        });
      }
    });
    expect(mostInside).toBe(2);
    expect([limiter.borrowedTokens, limiter.availableTokens]).toEqual([0, 2]);
  }));

  it("a task that already holds a token cannot borrow a second one", virtual(async () => {
    const limiter = new CapacityLimiter(5);
    await inTask("greedy", async () => {
      using _ = await limiter.acquire();
      await expect(limiter.acquire()).rejects.toThrow('task "greedy" already holds a token of this CapacityLimiter');
      expect(() => limiter.acquireNowait()).toThrow("a task may hold only one");
      expect(limiter.borrowedTokens).toBe(1);
    });
  }));

  it("a task that starts two acquire()s at once gets the second one refused when the tokens come free", virtual(async () => {
    const limiter = new CapacityLimiter(1);
    await taskGroup(async (tg) => {
      await limiter.acquire();
      tg.spawn(async () => {
        const [first, second] = await Promise.allSettled([limiter.acquire(), limiter.acquire()]);
        expect(first.status).toBe("fulfilled");
        expect(second).toMatchObject({ status: "rejected", reason: expect.objectContaining({ message: expect.stringContaining("already holds a token") }) });
        expect(limiter.statistics()).toMatchObject({ borrowedTokens: 2, borrowers: ["main", "twice"], tasksWaiting: 0 });
        limiter.release();
      }, { name: "twice" });
      await sleep(1);
      limiter.totalTokens = 3;
    });
    expect(limiter.borrowedTokens).toBe(1);
  }));

  it("release() by a task that holds no token throws and lends nothing back", virtual(async () => {
    const limiter = new CapacityLimiter(1);
    await inTask("holder", async () => {
      using _ = await limiter.acquire();
      await expect(inTask("stranger", () => limiter.release())).rejects.toThrow(
        'CapacityLimiter.release() was called by task "stranger", which holds none of its tokens',
      );
      expect(limiter.statistics().borrowers).toEqual(["holder"]);
    });
    expect(limiter.borrowedTokens).toBe(0);
  }));

  it("raising totalTokens hands the new tokens to waiting tasks in the order they asked", virtual(async () => {
    const limiter = new CapacityLimiter(1);
    await taskGroup(async (tg) => {
      await limiter.acquire();
      for (const name of ["a", "b", "c"]) {
        tg.spawn(async () => {
          using _ = await limiter.acquire();
          await sleep(100);
        }, { name });
        await sleep(1);
      }
      limiter.totalTokens = 3;
      expect(limiter.statistics()).toEqual({ borrowedTokens: 3, totalTokens: 3, borrowers: ["main", "a", "b"], tasksWaiting: 1 });
      limiter.release();
      expect(limiter.statistics().borrowers).toEqual(["a", "b", "c"]);
    });
  }));

  it("lowering totalTokens below what is borrowed takes nothing back but stops new borrowing until enough are released", virtual(async () => {
    const limiter = new CapacityLimiter(3);
    let lateGotTokenAt = -1;
    await taskGroup(async (tg) => {
      for (const holdUntil of [10, 20, 30]) {
        tg.spawn(async () => {
          using _ = await limiter.acquire();
          await sleepUntil(holdUntil);
        });
      }
      await sleep(1);
      limiter.totalTokens = 1;
      expect([limiter.borrowedTokens, limiter.availableTokens]).toEqual([3, -2]);
      expect(() => limiter.acquireNowait()).toThrow(WouldBlock);
      tg.spawn(async () => {
        using _ = await limiter.acquire();
        lateGotTokenAt = now();
      });
      await sleepUntil(25);
      expect(limiter.statistics()).toMatchObject({ borrowedTokens: 1, tasksWaiting: 1 });
    });
    expect(lateGotTokenAt).toBe(30);
  }));

  it.each([0, -1, 1.5, Number.NaN, -Infinity])("totalTokens = %s throws RangeError, in the constructor and the setter, and changes nothing", (total) => {
    expect(() => new CapacityLimiter(total)).toThrow(RangeError);
    expect(() => new CapacityLimiter(total)).toThrow(`CapacityLimiter totalTokens must be an integer of at least 1, or Infinity; got ${total}`);
    const limiter = new CapacityLimiter(2);
    expect(() => (limiter.totalTokens = total)).toThrow(RangeError);
    expect(limiter.totalTokens).toBe(2);
  });

  it("totalTokens that is not a number throws TypeError", () => {
    expect(() => new CapacityLimiter("2" as unknown as number)).toThrow('CapacityLimiter totalTokens must be a number; got "2"');
    expect(() => new CapacityLimiter(undefined as unknown as number)).toThrow(TypeError);
  });

  it("accepts Infinity tokens", virtual(async () => {
    const limiter = new CapacityLimiter(Infinity);
    using _ = await limiter.acquire();
    expect(limiter.availableTokens).toBe(Infinity);
  }));

  it("disposing a token that was already released does nothing", virtual(async () => {
    const limiter = new CapacityLimiter(1);
    const stale = await limiter.acquire();
    limiter.release();
    stale[Symbol.dispose]();
    expect(limiter.borrowedTokens).toBe(0);
    using _ = await limiter.acquire();
    stale[Symbol.dispose]();
    expect(limiter.borrowedTokens).toBe(1);
  }));

  it("disposing a task's token from another task throws and leaves both tokens alone", virtual(async () => {
    const limiter = new CapacityLimiter(2);
    const token = await limiter.acquire();
    await inTask("other", async () => {
      using _ = await limiter.acquire();
      expect(() => token[Symbol.dispose]()).toThrow('a CapacityLimiter token of task "main" was disposed of by task "other"');
      expect(limiter.statistics().borrowers).toEqual(["main", "other"]);
    });
    token[Symbol.dispose]();
    expect(limiter.borrowedTokens).toBe(0);
  }));

  it("statistics() is a frozen plain record, borrowers included", virtual(async () => {
    const limiter = new CapacityLimiter(2);
    using _ = await limiter.acquire();
    const statistics = limiter.statistics();
    expect(statistics).toEqual({ borrowedTokens: 1, totalTokens: 2, borrowers: ["main"], tasksWaiting: 0 });
    expect(Object.isFrozen(statistics)).toBe(true);
    expect(Object.isFrozen(statistics.borrowers)).toBe(true);
  }));
});
