import { describe, expect, it } from "vitest";
import { CancelScope, CapacityLimiter, all, taskGroup } from "@quartet/core";
import { runInWorker } from "../src/index.js";

const fixture = (name: string) => new URL(`fixtures/${name}.mjs`, import.meta.url);

describe("runInWorker", () => {
  it("returns what the module's default export returns", async () => {
    expect(await runInWorker<number>(fixture("double"), 21)).toBe(42);
  });

  it("takes an absolute path as well as a URL", async () => {
    expect(await runInWorker<number>(fixture("double").pathname, 4)).toBe(8);
  });

  it("throws the error the worker threw", async () => {
    const error = await runInWorker(fixture("fail"), "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe("bad input: x");
  });

  it("throws a TypeError for a module without a default export function", async () => {
    await expect(runInWorker(fixture("no-default"))).rejects.toThrow(/must have a default export that is a function; got undefined/);
  });

  it("when cancelled, terminates the worker in the middle of its computation and waits for it", async () => {
    const shared = new SharedArrayBuffer(4);
    const started = new Int32Array(shared);
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => runInWorker(fixture("spin"), shared)));
      while (Atomics.load(started, 0) === 0) await new Promise((resolve) => setImmediate(resolve));
      scope.cancel(); // the worker is in an endless loop
    });
    expect(scope.cancelledCaught).toBe(true);
  });

  it("runs at most limiter.totalTokens workers at once", async () => {
    const shared = new SharedArrayBuffer(8);
    const limiter = new CapacityLimiter(2);
    // Four jobs, two at a time: each waits to see a partner running, so the most at once is 2 (never more).
    const jobs = Array.from({ length: 4 }, () => () => runInWorker<number>(fixture("busy"), shared, { limiter }));
    await all(jobs);
    expect(Atomics.load(new Int32Array(shared), 1)).toBe(2);
    expect(limiter.borrowedTokens).toBe(0);
  });

  it("rejects bad arguments with TypeErrors naming them", async () => {
    await expect(runInWorker("./relative.mjs")).rejects.toThrow(/runInWorker\(\) module must be an absolute path or a file: URL/);
    await expect(runInWorker(42 as unknown as string)).rejects.toThrow(new TypeError("runInWorker() module must be a URL or a path; got 42"));
    await expect(runInWorker(fixture("double"), 1, { limiter: 3 as unknown as CapacityLimiter })).rejects.toThrow(
      new TypeError("runInWorker() limiter must be a CapacityLimiter; got 3"),
    );
  });
});
