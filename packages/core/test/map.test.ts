import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CancelScope,
  Cancelled,
  Event,
  TaskGroupError,
  checkpoint,
  forEach,
  map,
  moveOnAfter,
  now,
  openMemoryChannel,
  run,
  sleep,
  taskGroup,
} from "../src/index.js";
import { formatTaskTree } from "../src/lowlevel.js";
import { fcOptions } from "./fast-check.js";
import { MockClock, virtual, waitAllTasksBlocked } from "./virtual-time.js";

/** An async iterable that records how far it has been pulled and whether it was closed. */
function trackedSource(count: number) {
  const state = { pulled: 0, closed: false };
  async function* generate(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i++) {
        state.pulled++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, items: generate() };
}

describe("map", () => {
  it("resolves with the results in input order, whatever order the calls finish in", virtual(async () => {
    const results = await map([30, 10, 20], async (ms, index) => {
      await sleep(ms);
      return `${index}:${ms}`;
    }, { concurrency: 3 });
    expect(results).toEqual(["0:30", "1:10", "2:20"]);
    expect(now()).toBe(30);
  }));

  it("runs at most `concurrency` calls at once, starting the next as soon as one ends", virtual(async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    await map([10, 10, 10, 10, 10], async (ms) => {
      started.push(now());
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(ms);
      inFlight--;
    }, { concurrency: 2 });
    expect(most).toBe(2);
    expect(started).toEqual([0, 0, 10, 10, 20]);
  }));

  it("runs every call at once by default (concurrency Infinity)", virtual(async () => {
    await map(Array.from({ length: 50 }, (_, i) => i), () => sleep(10));
    expect(now()).toBe(10);
  }));

  it("takes sync values and functions that do not await", virtual(async () => {
    expect(await map(new Set([1, 2, 3]), (n) => n * 2, { concurrency: 2 })).toEqual([2, 4, 6]);
    expect(await map([], (n: number) => n)).toEqual([]);
    expect(await map("abc", (c) => c.toUpperCase())).toEqual(["A", "B", "C"]);
  }));

  it("pulls an async iterable only as slots free up", virtual(async () => {
    const { state, items } = trackedSource(10);
    const release = new Event();
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await map(items, () => release.wait(), { concurrency: 3 });
      });
      await waitAllTasksBlocked();
      expect(state.pulled).toBe(3);
      release.set();
    });
    expect(state.pulled).toBe(10);
  }));

  it("on the first failure cancels the calls in flight, stops pulling, and throws it as it is after their cleanup", virtual(async () => {
    const { state, items } = trackedSource(1000);
    const cleanedUp: number[] = [];
    const boom = new TypeError("boom");
    const error = await map(items, async (n) => {
      try {
        if (n === 3) {
          await sleep(5);
          throw boom;
        }
        await sleep(1000);
      } finally {
        cleanedUp.push(n);
      }
    }, { concurrency: 4 }).catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(now()).toBe(5);
    expect(cleanedUp.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(state.pulled).toBe(4);
    expect(state.closed).toBe(true); // the generator's finally ran: map closed it
  }));

  it("treats an error thrown by the input like a failure of a call", virtual(async () => {
    let cancelled = 0;
    async function* items(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      await sleep(5);
      throw new RangeError("bad input");
    }
    const error = await map(items(), async () => {
      try {
        await sleep(1000);
      } catch (e) {
        if (e instanceof Cancelled) cancelled++;
        throw e;
      }
    }, { concurrency: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(cancelled).toBe(2);
    expect(now()).toBe(5);
  }));

  it("throws every failure as a TaskGroupError when calls fail while unwinding", virtual(async () => {
    const error = await map([0, 1], async (n) => {
      if (n === 0) throw new Error("first");
      try {
        await sleep(100);
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error("second, in cleanup");
      }
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskGroupError);
    expect((error as TaskGroupError).errors.map((e) => (e as Error).message).sort()).toEqual(["first", "second, in cleanup"]);
  }));

  it("when the scope around it is cancelled, cancels the calls and leaves nothing running", virtual(async () => {
    let running = 0;
    const { state, items } = trackedSource(100);
    await moveOnAfter(15, () =>
      map(items, async () => {
        running++;
        try {
          await sleep(10);
        } finally {
          running--;
        }
      }, { concurrency: 2 }),
    );
    expect(running).toBe(0);
    expect(state.pulled).toBe(4);
    expect(state.closed).toBe(true);
    expect(now()).toBe(15);
  }));

  it("shows its workers in the task tree, in a group with the name given", virtual(async () => {
    const gate = new Event({ name: "gate" });
    await taskGroup(async (tg) => {
      tg.spawn(() => map([1, 2], () => gate.wait(), { concurrency: 2, name: "resize" }));
      await waitAllTasksBlocked();
      const tree = formatTaskTree();
      expect(tree).toContain('task group "resize"');
      expect(tree).toContain('task "map() worker 1" — blocked: wait on Event "gate"');
      expect(tree).toContain('task "map() worker 2" — blocked: wait on Event "gate"');
      gate.set();
    });
  }));

  it("checks its arguments", virtual(async () => {
    const fn = (n: number) => n;
    await expect(map(42 as unknown as number[], fn)).rejects.toThrow(new TypeError("map() items must be an iterable or async iterable; got 42"));
    await expect(map(Promise.resolve([1]) as unknown as number[], fn)).rejects.toThrow(/a Promise: await it first/);
    await expect(map([1], "fn" as unknown as typeof fn)).rejects.toThrow(new TypeError('map() fn must be a function; got "fn"'));
    await expect(map([1], fn, { concurrency: 0 })).rejects.toThrow(new RangeError("map() concurrency must be a positive integer or Infinity; got 0"));
    await expect(map([1], fn, { concurrency: 1.5 })).rejects.toBeInstanceOf(RangeError);
    await expect(map([1], fn, { concurrency: NaN })).rejects.toBeInstanceOf(RangeError);
    await expect(map([1], fn, { concurrency: -Infinity })).rejects.toBeInstanceOf(RangeError);
    await expect(map([1], fn, { concurrency: "2" as unknown as number })).rejects.toThrow(new TypeError('map() concurrency must be a number; got "2"'));
    await expect(map([1], fn, 3 as unknown as object)).rejects.toThrow(/map\(\) options must be an object/);
    await expect(forEach([1], fn, { name: 7 as unknown as string })).rejects.toThrow(/forEach\(\) name must be a string/);
  }));
});

describe("forEach", () => {
  it("is a worker pool over a channel: it ends when the channel does, every job done once", virtual(async () => {
    const [send, jobs] = openMemoryChannel<number>(4);
    const done: number[] = [];
    let inFlight = 0;
    let most = 0;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using tx = send;
        for (let i = 0; i < 40; i++) await tx.send(i);
      });
      await forEach(jobs, async (job) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(1 + (job % 3));
        inFlight--;
        done.push(job);
      }, { concurrency: 8 });
    });
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(most).toBe(8);
  }));

  it("runs over an endless async iterable until cancelled, keeping no results", virtual(async () => {
    async function* ticks(): AsyncGenerator<number> {
      for (let i = 0; ; i++) {
        await sleep(1);
        yield i;
      }
    }
    let handled = 0;
    await moveOnAfter(100, () => forEach(ticks(), () => void handled++, { concurrency: 2 }));
    expect(handled).toBeGreaterThan(90);
    expect(handled).toBeLessThanOrEqual(100);
  }));

  it("a failure stops the pool; the channel's receive end stays open for others", virtual(async () => {
    const [send, jobs] = openMemoryChannel<number>(10);
    for (let i = 0; i < 10; i++) send.sendNowait(i);
    const error = await forEach(jobs, async (job) => {
      await checkpoint();
      if (job === 2) throw new Error("job 2 failed");
    }, { concurrency: 1 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("job 2 failed");
    expect(jobs.receiveNowait()).toBe(3); // not closed, and nothing after the failure was taken
  }));
});

describe("how the workers pull", () => {
  it("never asks an async iterator for its next value while a next() is pending", virtual(async () => {
    let pending = 0;
    let index = 0;
    const input: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          if (pending > 0) throw new Error("next() while another next() is pending");
          pending++;
          await sleep(1);
          pending--;
          return index < 20 ? { value: index++, done: false } : { value: undefined, done: true };
        },
      }),
    };
    expect(await map(input, (n) => n * 2, { concurrency: 5 })).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  }));

  it("lets its workers wait on a Quartet channel together (its receivers queue in order)", virtual(async () => {
    const [send, jobs] = openMemoryChannel<number>(0, { name: "jobs" });
    const done: number[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(() => forEach(jobs, async (job) => void done.push(job), { concurrency: 3 }));
      await waitAllTasksBlocked();
      expect(jobs.statistics().tasksWaitingReceive).toBe(1); // one worker started so far: it starts the next when it takes an item
      await send.send(1);
      await send.send(2);
      await waitAllTasksBlocked();
      expect(jobs.statistics().tasksWaitingReceive).toBe(3);
      expect(formatTaskTree()).not.toContain("Lock");
      send.close();
    });
    expect(done).toEqual([1, 2]);
  }));
});

describe("map, as a property", () => {
  it("never exceeds its concurrency, and calls fn once per item, under random durations, failures and cancellations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ms: fc.integer({ min: 0, max: 20 }), fails: fc.boolean() }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
        fc.boolean(),
        async (items, concurrency, cancelAt, asyncInput) => {
          const failing = items.map((item, i) => ({ ...item, fails: item.fails && i % 4 === 3 }));
          await run(async () => {
            const calls = new Map<number, number>();
            let inFlight = 0;
            let most = 0;
            let firstFailure: number | undefined;
            async function* fromAsync(): AsyncGenerator<(typeof failing)[number]> {
              for (const item of failing) {
                await checkpoint();
                yield item;
              }
            }
            const input = asyncInput ? fromAsync() : failing;
            let outcome: unknown;
            const scope = new CancelScope();
            await taskGroup(async (tg) => {
              if (cancelAt !== undefined) tg.spawn(async () => {
                await sleep(cancelAt);
                scope.cancel();
              });
              try {
                outcome = await scope.run(() =>
                  map(input, async (item, index) => {
                    calls.set(index, (calls.get(index) ?? 0) + 1);
                    inFlight++;
                    most = Math.max(most, inFlight);
                    try {
                      await sleep(item.ms);
                      if (item.fails) {
                        firstFailure ??= index;
                        throw new Error(`item ${index}`);
                      }
                      return index;
                    } finally {
                      inFlight--;
                    }
                  }, { concurrency }),
                );
              } catch (error) {
                outcome = error;
              }
              tg.cancelScope.cancel();
            });
            expect(most).toBeLessThanOrEqual(concurrency);
            expect(inFlight).toBe(0);
            for (const count of calls.values()) expect(count).toBe(1);
            if (Array.isArray(outcome)) {
              // Completed: every item, in order, exactly once.
              expect(outcome).toEqual(failing.map((_, i) => i));
              expect(calls.size).toBe(failing.length);
            } else if (outcome instanceof Error) {
              expect(firstFailure).toBeDefined();
            } else {
              expect(outcome).toBeUndefined(); // cancelled from outside
              expect(scope.cancelledCaught).toBe(true);
            }
          }, { clock: new MockClock({ autojumpThreshold: 0 }) });
        },
      ),
      fcOptions(60),
    );
  });
});
