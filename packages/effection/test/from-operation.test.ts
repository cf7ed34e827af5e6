import { describe, expect, it } from "vitest";
import { CancelScope, Cancelled, Event, isCancelled, moveOnAfter, now, run, taskGroup } from "@quartet/core";
import { taskTree, type TaskTreeTask } from "@quartet/core/lowlevel";
import { MockClock, waitAllTasksBlocked } from "@quartet/testing";
import { createContext, createScope, sleep, spawn, suspend, until, useAbortSignal, type Operation } from "effection";
import { fromOperation } from "../src/index.js";

/** Every task of the current run's tree, depth first. */
function tasksOf(task: TaskTreeTask): TaskTreeTask[] {
  return [task, ...task.scopes.flatMap((scope) => scope.tasks.flatMap(tasksOf))];
}

describe("fromOperation", () => {
  it("returns the value of an operation, given as an Operation or as a function that returns one", async () => {
    function* twice(n: number): Operation<number> {
      yield* sleep(0);
      return n * 2;
    }
    expect(await fromOperation(twice(21))).toBe(42);
    expect(await fromOperation(() => twice(4))).toBe(8);
    expect(await fromOperation(function* () {
      return "no effects at all";
    })).toBe("no effects at all");
  });

  it("throws the operation's error as the same object, thrown before or after it waited", async () => {
    const early = new Error("early");
    const late = new TypeError("late");
    expect(await fromOperation(function* () {
      throw early;
    }).catch((e: unknown) => e)).toBe(early);
    expect(await fromOperation(function* () {
      yield* until(Promise.resolve());
      throw late;
    }).catch((e: unknown) => e)).toBe(late);
  });

  it("carries thrown values that are not errors as they are", async () => {
    expect(await fromOperation(function* () {
      throw "a string";
    }).catch((e: unknown) => e)).toBe("a string");
    const undefinedThrown = await fromOperation(function* () {
      throw undefined;
    }).then(() => "returned", (e: unknown) => e);
    expect(undefinedThrown).toBeUndefined();
  });

  it("throws the error of a task the operation spawned, after halting the operation", async () => {
    const log: string[] = [];
    const failure = new Error("child failed");
    const error = await fromOperation(function* () {
      yield* spawn(function* () {
        yield* sleep(0);
        throw failure;
      });
      try {
        yield* suspend();
      } finally {
        log.push("operation halted");
      }
    }).catch((e: unknown) => e);
    log.push("fromOperation threw");
    expect(error).toBe(failure);
    expect(log).toEqual(["operation halted", "fromOperation threw"]);
  });

  it("when the scope is cancelled, halts the operation and throws the Cancelled only after its finally blocks have run", async () => {
    const log: string[] = [];
    const started = new Event();
    const scope = new CancelScope({ name: "caller" });
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await scope.run(async () => {
          try {
            await fromOperation(function* () {
              try {
                log.push("operation started");
                started.set();
                yield* suspend();
              } finally {
                log.push("finally: begins");
                yield* until(Promise.resolve()); // cleanup that itself waits
                log.push("finally: ends");
              }
            });
          } catch (error) {
            log.push(`caller caught ${(error as Error).name}, origin ${(error as Cancelled).origin.kind}`);
            throw error;
          }
        });
      });
      await started.wait();
      log.push("cancel");
      scope.cancel();
    });
    expect(log).toEqual(["operation started", "cancel", "finally: begins", "finally: ends", "caller caught Cancelled, origin cancel"]);
    expect(scope.cancelledCaught).toBe(true);
  });

  it("halts the operation's children and resources before it returns or throws", async () => {
    const log: string[] = [];
    let signal: AbortSignal | undefined;
    const value = await fromOperation(function* () {
      signal = yield* useAbortSignal();
      yield* spawn(function* () {
        try {
          yield* suspend();
        } finally {
          log.push("child halted");
        }
      });
      yield* sleep(0);
      return "done";
    });
    log.push(`returned ${value}`);
    expect(log).toEqual(["child halted", "returned done"]);
    expect(signal?.aborted).toBe(true); // the operation's effection scope has been destroyed

    const scope = new CancelScope();
    scope.cancel();
    let cancelledSignal: AbortSignal | undefined;
    await scope.run(() =>
      taskGroup(async (tg) => {
        tg.spawn(() => fromOperation(function* () {
          cancelledSignal = yield* useAbortSignal();
          yield* suspend();
        }));
      }),
    );
    expect(cancelledSignal).toBeUndefined(); // a cancelled caller never started it
  });

  it("in a scope that is already cancelled, throws Cancelled without starting the operation", async () => {
    let started = false;
    const scope = new CancelScope();
    scope.cancel("too late");
    let caught: unknown;
    await scope.run(async () => {
      try {
        await fromOperation(function* () {
          started = true;
        });
      } catch (error) {
        caught = error;
        throw error;
      }
    });
    expect(started).toBe(false);
    expect(isCancelled(caught)).toBe(true);
    expect((caught as Cancelled).reason).toBe("too late");
  });

  it("throws the error that the operation's cleanup threw, instead of the Cancelled", async () => {
    const cleanupFailure = new Error("cleanup failed");
    const started = new Event();
    const scope = new CancelScope();
    const error = await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => fromOperation(function* () {
        try {
          started.set();
          yield* suspend();
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw cleanupFailure;
        }
      })));
      await started.wait();
      scope.cancel();
    }).catch((e: unknown) => e);
    expect(error).toBe(cleanupFailure);
  });

  it("is a blocking checkpoint: the task tree shows the task in fromOperation, and it counts as blocked", async () => {
    await run(async () => {
      await taskGroup(async (tg) => {
        tg.spawn(() => fromOperation(function* waitForever() {
          yield* suspend();
        }), { name: "bridge" });
        await waitAllTasksBlocked(); // returns: the task in fromOperation counts as blocked
        const bridge = tasksOf(taskTree().main).find((task) => task.name === "bridge")!;
        expect(bridge.state).toBe("blocked");
        expect(bridge.wait).toMatchObject({ operation: "fromOperation", object: "effection operation", name: "waitForever" });
        tg.cancelScope.cancel();
      });
    });
  });

  it("lets a virtual clock jump while the operation waits, as every task is blocked", async () => {
    const clock = new MockClock({ autojumpThreshold: 0 });
    const result = await run(() => moveOnAfter(60_000, () => fromOperation(suspend)), { clock });
    expect(result).toBeUndefined();
    expect(clock.now()).toBe(60_000);
  });

  it("runs the operation in options.scope, with its contexts", async () => {
    const User = createContext<string>("test.user");
    const [scope, destroy] = createScope();
    scope.set(User, "alice");
    try {
      expect(await fromOperation(() => User.expect(), { scope })).toBe("alice");
    } finally {
      await destroy();
    }
  });

  it("throws an Error saying so when options.scope is destroyed while the operation runs", async () => {
    const log: string[] = [];
    const [scope, destroy] = createScope();
    const started = new Event();
    const error = await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await started.wait();
        await destroy();
        log.push("destroyed");
      });
      return fromOperation(function* () {
        try {
          started.set();
          yield* suspend();
        } finally {
          log.push("operation halted");
        }
      }, { scope }).catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("fromOperation(): the effection scope the operation ran in was destroyed before it finished");
    expect(log).toEqual(["operation halted", "destroyed"]);
  });

  it("keeps the caller's clock for Quartet code around it", async () => {
    const clock = new MockClock({ autojumpThreshold: 0 });
    await run(async () => {
      expect(await fromOperation(function* () {
        return 1;
      })).toBe(1);
      expect(now()).toBe(0);
    }, { clock });
  });

  it("rejects bad arguments with TypeErrors naming them", async () => {
    await expect(fromOperation(42 as never)).rejects.toThrow(
      new TypeError("fromOperation() operation must be an effection Operation or a function that returns one; got 42"),
    );
    await expect(fromOperation({} as never)).rejects.toThrow(/fromOperation\(\) operation must be .*; got an object/);
    await expect(fromOperation(suspend, "scope" as never)).rejects.toThrow(new TypeError('fromOperation() options must be an object if given; got "scope"'));
    await expect(fromOperation(suspend, { scope: {} as never })).rejects.toThrow(
      new TypeError("fromOperation() scope must be an effection Scope if given; got an object"),
    );
  });
});
