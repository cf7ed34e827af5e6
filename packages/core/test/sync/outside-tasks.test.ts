// Code outside any task group and any run() (a plain Node callback, say) all
// runs in the implicit root, which is a single "task" for every caller. The
// task-owned primitives must still let such callers wait for one another.
import { setTimeout as hostDelay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { CapacityLimiter, Lock } from "../../src/index.js";

describe("Lock and CapacityLimiter outside any task", () => {
  it("a Lock makes a second caller wait instead of taking it for a re-acquire", async () => {
    const lock = new Lock();
    const log: string[] = [];
    const handler = async (name: string) => {
      using _ = await lock.acquire();
      log.push(`${name} in`);
      await hostDelay(2);
      log.push(`${name} out`);
    };
    await Promise.all([handler("first"), handler("second")]);
    expect(log).toEqual(["first in", "first out", "second in", "second out"]);
    expect(lock.locked()).toBe(false);
  });

  it("a CapacityLimiter lends each caller a token of its own", async () => {
    const limiter = new CapacityLimiter(2);
    let inside = 0;
    let most = 0;
    const handler = async () => {
      using _ = await limiter.acquire();
      most = Math.max(most, ++inside);
      await hostDelay(2);
      inside--;
    };
    await Promise.all([handler(), handler(), handler(), handler()]);
    expect(most).toBe(2);
    expect(limiter.borrowedTokens).toBe(0);
    await limiter.acquire();
    limiter.release();
    expect(() => limiter.release()).toThrow(/holds none of its tokens/);
  });
});
