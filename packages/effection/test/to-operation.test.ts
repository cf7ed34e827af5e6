import { describe, expect, it } from "vitest";
import { Cancelled, checkpoint, currentSignal, Event, isCancelled, sleepForever } from "@quartet/core";
import { currentStatistics } from "@quartet/core/lowlevel";
import { call, race, run as runEffection, spawn, suspend, until, withResolvers, type Operation } from "effection";
import { toOperation } from "../src/index.js";

/** Resolves once `event` is set, from effection code. */
function* waitFor(event: Event): Operation<void> {
  yield* until(event.wait());
}

describe("toOperation", () => {
  it("returns what the function returns, called with the arguments given", async () => {
    async function add(a: number, b: number): Promise<number> {
      await checkpoint();
      return a + b;
    }
    expect(await runEffection(() => toOperation(add, 2, 3))).toBe(5);
    expect(await runEffection(() => toOperation(() => "not a promise"))).toBe("not a promise");
  });

  it("calls the function again each time the operation runs", async () => {
    let calls = 0;
    const counted = toOperation(async () => ++calls);
    expect(await runEffection(function* () {
      return [yield* counted, yield* counted];
    })).toEqual([1, 2]);
  });

  it("throws the function's error as the same object, whether it rejected or threw synchronously", async () => {
    const rejected = new Error("rejected");
    const thrown = new RangeError("thrown");
    const caught: unknown[] = [];
    await runEffection(function* () {
      for (const op of [
        toOperation(async () => {
          await checkpoint();
          throw rejected;
        }),
        toOperation((): number => {
          throw thrown;
        }),
      ]) {
        try {
          yield* op;
        } catch (error) {
          caught.push(error);
        }
      }
    });
    expect(caught[0]).toBe(rejected);
    expect(caught[1]).toBe(thrown);
  });

  it("when the effection task halts, cancels the function's scope (origin halt) and finishes the halt only after its cleanup", async () => {
    const log: string[] = [];
    const started = new Event();
    let cancelled: unknown;
    const task = runEffection(function* () {
      try {
        yield* toOperation(async function download() {
          await using _ = {
            [Symbol.asyncDispose]: async () => {
              await Promise.resolve();
              log.push("disposer ran");
            },
          };
          try {
            started.set();
            await sleepForever();
          } catch (error) {
            cancelled = error;
            throw error;
          } finally {
            log.push("function finally: begins");
            await Promise.resolve(); // cleanup that waits
            log.push("function finally: ends");
          }
        });
        log.push("LEAKED: the operation went on after the halt");
      } finally {
        log.push("operation finally");
      }
    });
    await started.wait();
    log.push("halt");
    await task.halt();
    log.push("halted");
    expect(log).toEqual(["halt", "function finally: begins", "function finally: ends", "disposer ran", "operation finally", "halted"]);
    expect(isCancelled(cancelled)).toBe(true);
    expect((cancelled as Cancelled).origin).toMatchObject({ kind: "halt", scope: "download" });
    expect((cancelled as Cancelled).reason).toBe("the effection task that ran download() was halted");
  });

  it("gives the function a scope of its own whose signal aborts on the halt", async () => {
    let signal: AbortSignal | undefined;
    const task = runEffection(() =>
      toOperation(async () => {
        signal = currentSignal();
        await sleepForever();
      }),
    );
    while (signal === undefined) await Promise.resolve();
    expect(signal.aborted).toBe(false);
    await task.halt();
    expect(signal.aborted).toBe(true);
    expect(isCancelled(signal.reason)).toBe(true);
  });

  it("makes the halt throw an error the function's cleanup threw", async () => {
    const cleanupFailure = new Error("cleanup failed");
    const started = new Event();
    const task = runEffection(() =>
      toOperation(async () => {
        try {
          started.set();
          await sleepForever();
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw cleanupFailure;
        }
      }),
    );
    await started.wait();
    expect(await task.halt().then(() => "resolved", (e: unknown) => e)).toBe(cleanupFailure);
  });

  it("is cancelled when it loses an effection race, and the race returns after its cleanup", async () => {
    const log: string[] = [];
    const winner = withResolvers<string>();
    const result = await runEffection(function* () {
      yield* spawn(function* () {
        yield* until(Promise.resolve());
        winner.resolve("effection won");
      });
      return yield* race([
        winner.operation,
        toOperation(async () => {
          try {
            await sleepForever();
          } finally {
            log.push("loser cleaned up");
          }
          return "quartet won";
        }),
      ]);
    });
    log.push(result);
    expect(log).toEqual(["loser cleaned up", "effection won"]);
  });

  it("runs inside effection's call() and is halted with it", async () => {
    const log: string[] = [];
    const started = new Event();
    const task = runEffection(() =>
      call(function* () {
        yield* spawn(() =>
          toOperation(async () => {
            try {
              started.set();
              await sleepForever();
            } finally {
              log.push("spawned function cleaned up");
            }
          }),
        );
        yield* waitFor(started);
        yield* suspend();
      }),
    );
    await started.wait();
    await task.halt();
    log.push("halted");
    expect(log).toEqual(["spawned function cleaned up", "halted"]);
  });

  it("leaves no task behind in Quartet's implicit root", async () => {
    const started = new Event();
    const task = runEffection(() =>
      toOperation(async () => {
        started.set();
        await sleepForever();
      }),
    );
    await started.wait();
    await task.halt();
    expect(currentStatistics().tasksLiving).toBe(0);
  });

  it("rejects a function that is not one with a TypeError naming it", () => {
    expect(() => toOperation(42 as never)).toThrow(new TypeError("toOperation() fn must be a function; got 42"));
    expect(() => toOperation(null as never)).toThrow(new TypeError("toOperation() fn must be a function; got null"));
  });
});
