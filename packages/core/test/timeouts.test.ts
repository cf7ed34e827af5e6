import { describe, expect, it } from "vitest";
import {
  CancelScope,
  TimeoutError,
  checkpoint,
  failAfter,
  failAt,
  moveOnAfter,
  moveOnAt,
  now,
  sleep,
  sleepForever,
} from "../src/index.js";
import { virtual } from "./virtual-time.js";

describe("moveOnAfter / moveOnAt", () => {
  it("returns the body's value when it finishes in time", virtual(async () => {
    expect(await moveOnAfter(10_000, async () => "done")).toBe("done");
    expect(await moveOnAt(now() + 10_000, () => "sync body")).toBe("sync body");
  }));

  it("returns undefined when the deadline cuts the body short", virtual(async () => {
    const log: string[] = [];
    const result = await moveOnAfter(1, async (scope) => {
      try {
        await sleepForever();
      } finally {
        log.push(`cleanup, cancelCalled=${scope.cancelCalled}`);
      }
    });
    expect(result).toBeUndefined();
    expect(log).toEqual(["cleanup, cancelCalled=true"]);
    expect(await moveOnAt(now() - 5, () => checkpoint().then(() => "late"))).toBeUndefined();
  }));

  it("passes the scope to the body, which can cancel it or move its deadline", virtual(async () => {
    const result = await moveOnAfter(10_000, async (scope) => {
      scope.cancel();
      await checkpoint();
      return "unreachable";
    });
    expect(result).toBeUndefined();
    const extended = await moveOnAfter(1, async (scope) => {
      scope.deadline = Infinity;
      await sleep(3);
      return "extended";
    });
    expect(extended).toBe("extended");
  }));

  it("with shield, runs cleanup to the end inside a cancelled scope", virtual(async () => {
    const outer = new CancelScope();
    const log: string[] = [];
    await outer.run(async () => {
      try {
        outer.cancel();
        await checkpoint();
      } finally {
        await moveOnAfter(
          1000,
          async () => {
            await sleep(1);
            log.push("cleanup finished its awaits");
          },
          { shield: true },
        );
      }
    });
    expect(log).toEqual(["cleanup finished its awaits"]);
  }));

  it("with shield, still honours its own deadline", virtual(async () => {
    const outer = new CancelScope();
    let result: string | undefined = "not run";
    await outer.run(async () => {
      outer.cancel();
      result = await moveOnAfter(1, async () => {
        await sleepForever();
        return "unreachable";
      }, { shield: true });
    });
    expect(result).toBeUndefined();
  }));

  it("rejects bad durations, deadlines, bodies and options", virtual(async () => {
    await expect(moveOnAfter(-1, async () => {})).rejects.toThrow(RangeError);
    await expect(moveOnAfter(-1, async () => {})).rejects.toThrow(/non-negative number of milliseconds; got -1/);
    await expect(moveOnAfter(Number.NaN, async () => {})).rejects.toThrow(RangeError);
    await expect(moveOnAfter("5" as never, async () => {})).rejects.toThrow(TypeError);
    await expect(moveOnAt(Number.NaN, async () => {})).rejects.toThrow(/moveOnAt\(\) deadline must not be NaN/);
    await expect(moveOnAfter(5, "body" as never)).rejects.toThrow(/moveOnAfter\(\) body must be a function/);
    await expect(moveOnAfter(5, async () => {}, { shield: "yes" as never })).rejects.toThrow(/shield option must be a boolean/);
  }));
});

describe("failAfter / failAt", () => {
  it("returns the body's value when it finishes in time", virtual(async () => {
    expect(await failAfter(10_000, async () => 5)).toBe(5);
    expect(await failAt(Infinity, async () => 6)).toBe(6);
  }));

  it("throws TimeoutError when the deadline cuts the body short, after the body's cleanup", virtual(async () => {
    const log: string[] = [];
    const error = await failAfter(1, async () => {
      try {
        await sleepForever();
      } finally {
        log.push("cleanup");
      }
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).name).toBe("TimeoutError");
    expect((error as Error).message).toMatch(/failAfter\(1\) timed out/);
    expect(log).toEqual(["cleanup"]);
    await expect(failAt(now() + 1, () => sleepForever())).rejects.toBeInstanceOf(TimeoutError);
  }));

  it("does not throw when the body caught the cancellation and finished anyway", virtual(async () => {
    const result = await failAfter(1, async () => {
      try {
        await sleepForever();
      } catch {
        return "swallowed";
      }
    });
    expect(result).toBe("swallowed");
  }));

  it("lets an outer cancellation through as Cancelled, not TimeoutError", virtual(async () => {
    const outer = new CancelScope();
    let thrown: unknown;
    await outer.run(async () => {
      try {
        await failAfter(10_000, async () => {
          outer.cancel();
          await checkpoint();
        });
      } catch (error) {
        thrown = error;
        throw error;
      }
    });
    expect((thrown as Error).name).toBe("Cancelled");
  }));

  it("rejects bad durations", virtual(async () => {
    await expect(failAfter(-5, async () => {})).rejects.toThrow(RangeError);
    await expect(failAt("x" as never, async () => {})).rejects.toThrow(TypeError);
  }));
});
