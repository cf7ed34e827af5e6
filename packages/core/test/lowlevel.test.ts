import { describe, expect, it } from "vitest";
import { CancelScope, Cancelled, checkpoint, run, sleepForever, taskGroup } from "../src/index.js";
import { currentRunHooks, currentStatistics, parkCurrentTask, type ParkedTask } from "../src/lowlevel.js";

describe("parkCurrentTask", () => {
  it("blocks the task until woken, with the value given", async () => {
    const queue: ParkedTask<string>[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        const parked = parkCurrentTask<string>();
        queue.push(parked);
        expect(parked.waiting).toBe(true);
        expect(await parked.promise).toBe("hello");
        expect(parked.waiting).toBe(false);
      });
      await checkpoint();
      await checkpoint();
      queue[0]!.wake("hello");
      queue[0]!.wake("ignored: already woken");
    });
  });

  it("rejects with the error given to fail()", async () => {
    const parked = parkCurrentTask<number>();
    const error = new Error("queue closed");
    parked.fail(error);
    await expect(parked.promise).rejects.toBe(error);
  });

  it("on cancellation runs the abort callback first, then rejects with Cancelled", async () => {
    const log: string[] = [];
    const scope = new CancelScope();
    await scope.run(async () => {
      const parked = parkCurrentTask<void>((p) => log.push(`abort callback, waiting=${p.waiting}`));
      scope.cancel();
      await parked.promise.catch((e: unknown) => {
        log.push(e instanceof Cancelled ? "rejected with Cancelled" : "other");
        throw e;
      });
    });
    expect(log).toEqual(["abort callback, waiting=false", "rejected with Cancelled"]);
    expect(scope.cancelledCaught).toBe(true);
  });

  it("throws Cancelled at once in a cancelled scope", async () => {
    const scope = new CancelScope();
    scope.cancel();
    await scope.run(async () => {
      expect(() => parkCurrentTask()).toThrow(Cancelled);
    });
    expect(() => parkCurrentTask("nope" as never)).toThrow(TypeError);
  });
});

describe("currentStatistics and currentRunHooks", () => {
  it("count living and runnable tasks", async () => {
    await run(async () => {
      expect(currentStatistics()).toMatchObject({ tasksLiving: 1, tasksRunnable: 1 });
      await taskGroup(async (tg) => {
        tg.spawn(() => sleepForever());
        tg.spawn(() => sleepForever());
        await checkpoint();
        expect(currentStatistics()).toMatchObject({ tasksLiving: 3, tasksRunnable: 1 });
        tg.cancelScope.cancel();
      });
      expect(Object.isFrozen(currentStatistics())).toBe(true);
    });
  });

  it("call back once every task is blocked", async () => {
    await run(async () => {
      const log: string[] = [];
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          for (let i = 0; i < 5; i++) await checkpoint();
          log.push("child blocked");
          await sleepForever();
        });
        const parked = parkCurrentTask<void>();
        currentRunHooks().whenIdle(() => {
          log.push("idle");
          parked.wake();
        });
        await parked.promise;
        tg.cancelScope.cancel();
      });
      expect(log).toEqual(["child blocked", "idle"]);
      const withdraw = currentRunHooks().whenIdle(() => log.push("never"));
      withdraw();
    });
  });
});

describe("tasksOfError", () => {
  it("lists the tasks an error came out of, innermost first", async () => {
    const { tasksOfError } = await import("../src/lowlevel.js");
    const error = await run(async function main() {
      await taskGroup(async (outer) => {
        outer.spawn(
          () =>
            taskGroup(async (inner) => {
              inner.spawn(async () => {
                throw new Error("deep");
              }, { name: "leaf" });
            }),
          { name: "middle" },
        );
      });
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("deep");
    expect(tasksOfError(error)).toEqual(["leaf", "middle", "main"]);
    expect(tasksOfError(new Error("never in a task"))).toEqual([]);
    expect(tasksOfError("a string")).toEqual([]);
    expect(Object.keys(error as object)).toEqual([]); // not enumerable: logs and JSON are unchanged
  });
});
