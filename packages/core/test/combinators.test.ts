import { setTimeout as hostDelay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { CancelScope, TaskGroupError, all, checkpoint, moveOnAfter, race, sleep, sleepForever } from "../src/index.js";
import { virtual } from "./virtual-time.js";

describe("all", () => {
  it("resolves with the results in input order", virtual(async () => {
    const result = await all([
      async () => {
        await sleep(3);
        return "slow";
      },
      async () => "instant",
      () => "sync" as unknown as Promise<string>,
    ]);
    expect(result).toEqual(["slow", "instant", "sync"]);
    expect(await all([])).toEqual([]);
  }));

  it("cancels the others at the first failure, waits for their cleanup, and rethrows it as it is", virtual(async () => {
    const log: string[] = [];
    const boom = new Error("boom");
    const error = await all([
      async () => {
        try {
          await sleepForever();
        } finally {
          await hostDelay(1); // cleanup awaiting a foreign promise
          log.push("other cleaned up");
        }
      },
      async () => {
        await sleep(1);
        throw boom;
      },
    ]).catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(log).toEqual(["other cleaned up"]);
  }));

  it("reports failures of the others during their unwinding together with the first", virtual(async () => {
    const first = new Error("first");
    const cleanup = new Error("cleanup failed");
    const error = await all([
      async () => {
        await sleep(1);
        throw first;
      },
      async () => {
        try {
          await sleepForever();
        } finally {
          throw cleanup;
        }
      },
    ]).catch((e: unknown) => e);
    expect((error as TaskGroupError).errors).toEqual([first, cleanup]);
  }));

  it("rejects input that is not an array of functions", virtual(async () => {
    await expect(all("abc" as never)).rejects.toThrow(/all\(\) needs an array of functions; got "abc"/);
    await expect(all([async () => 1, 2 as never])).rejects.toThrow(/element 1 is 2/);
  }));
});

describe("race", () => {
  it("settles with the first to return, after the others were cancelled and cleaned up", virtual(async () => {
    const log: string[] = [];
    const winner = await race([
      async () => {
        try {
          await sleep(10_000);
          return "slow";
        } finally {
          await moveOnAfter(1000, () => sleep(1), { shield: true }); // shielded cleanup using Quartet itself
          log.push("loser cleaned up");
        }
      },
      async () => {
        await sleep(1);
        return "fast";
      },
    ]);
    expect(winner).toBe("fast");
    expect(log).toEqual(["loser cleaned up"]);
  }));

  it("settles with the first to throw", virtual(async () => {
    const boom = new Error("boom");
    const log: string[] = [];
    const error = await race([
      async () => {
        await sleep(1);
        throw boom;
      },
      async () => {
        try {
          await sleep(10_000);
        } finally {
          log.push("loser cleaned up");
        }
        return "slow";
      },
    ]).catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(log).toEqual(["loser cleaned up"]);
  }));

  it("does not drop a loser's own failure while it unwinds", virtual(async () => {
    const cleanup = new Error("cleanup failed");
    await expect(
      race([
        async () => "first",
        async () => {
          try {
            await sleepForever();
          } finally {
            throw cleanup;
          }
        },
      ]),
    ).rejects.toBe(cleanup);
  }));

  it("throws Cancelled, not a winner, when the calling scope is cancelled", virtual(async () => {
    const scope = new CancelScope();
    const result = await scope.run(async () => {
      scope.cancel();
      return race([() => checkpoint().then(() => "x"), () => sleepForever()]);
    });
    expect(result).toBeUndefined();
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("rejects an empty array, which could never settle", virtual(async () => {
    await expect(race([])).rejects.toThrow(/race\(\) needs at least one function/);
    await expect(race(null as never)).rejects.toThrow(TypeError);
  }));
});
