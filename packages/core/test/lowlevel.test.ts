import { describe, expect, it } from "vitest";
import { CancelScope, Cancelled, checkpoint, run, sleepForever, taskGroup } from "../src/index.js";
import { cancelWithOrigin, currentRunHooks, currentStatistics, onCancelled, parkCurrentTask, type ParkedTask } from "../src/lowlevel.js";

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

describe("onCancelled", () => {
  it("is called once, with the scope's Cancelled, when the scope is cancelled — after the waiters it wakes", async () => {
    const log: string[] = [];
    const scope = new CancelScope({ name: "request" });
    onCancelled(scope, (cancelled) => log.push(`callback: ${cancelled.origin.kind} ${String(cancelled.reason)}`));
    await taskGroup(async (tg) => {
      tg.spawn(() =>
        scope.run(async () => {
          try {
            await sleepForever();
          } catch (error) {
            log.push(`body woke: ${(error as Cancelled).origin.scope}`);
            throw error;
          }
        }),
      );
      await checkpoint();
      cancelWithOrigin(scope, "disconnect", "client gone");
      log.push("after cancel()");
      scope.cancel("again"); // already cancelled: no second call
    });
    expect(log).toEqual(["callback: disconnect client gone", "after cancel()", "body woke: request"]);
  });

  it("sees a cancellation that reaches the scope from outside, with the outer Cancelled, and not through a shield", async () => {
    const seen: unknown[] = [];
    const outer = new CancelScope({ name: "outer" });
    await outer.run(async () => {
      const inner = new CancelScope();
      const shielded = new CancelScope({ shield: true });
      onCancelled(inner, (cancelled) => seen.push(cancelled));
      onCancelled(shielded, () => seen.push("shielded"));
      await inner.run(() =>
        shielded.run(async () => {
          outer.cancel("stop");
          await checkpoint(); // the shield holds
        }),
      );
      expect(inner.signal.reason).toBe(seen[0]);
    });
    expect(seen).toHaveLength(1);
    expect((seen[0] as Cancelled).origin.scope).toBe("outer");
  });

  it("is called at the cancel() of a scope not entered yet, and at once for a scope already cancelled", () => {
    const calls: string[] = [];
    const scope = new CancelScope();
    onCancelled(scope, () => calls.push("first"));
    onCancelled(scope, () => calls.push("second"));
    scope.cancel();
    expect(calls).toEqual(["first", "second"]);
    onCancelled(scope, (cancelled) => calls.push(`late: ${cancelled.origin.kind}`));
    expect(calls).toEqual(["first", "second", "late: cancel"]);
  });

  it("is called when the deadline passes, and not after the scope has exited", async () => {
    const calls: string[] = [];
    const timed = new CancelScope({ deadline: 0 });
    onCancelled(timed, (cancelled) => calls.push(cancelled.origin.kind));
    await timed.run(() => checkpoint());
    const done = new CancelScope();
    onCancelled(done, () => calls.push("after exit"));
    await done.run(() => checkpoint());
    done.cancel();
    expect(calls).toEqual(["deadline"]);
    expect(timed.cancelledCaught).toBe(true);
  });

  it("reports a callback that throws as an uncaught exception, and still calls the others", async () => {
    const uncaught: unknown[] = [];
    const listener = (error: unknown) => uncaught.push(error);
    const listeners = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    process.on("uncaughtException", listener);
    try {
      const scope = new CancelScope();
      const failure = new Error("callback failed");
      const calls: string[] = [];
      onCancelled(scope, () => {
        throw failure;
      });
      onCancelled(scope, () => calls.push("second"));
      await scope.run(async () => {
        scope.cancel();
        await checkpoint();
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls).toEqual(["second"]);
      expect(uncaught).toEqual([failure]);
    } finally {
      process.removeListener("uncaughtException", listener);
      for (const l of listeners) process.on("uncaughtException", l);
    }
  });

  it("rejects what is not a scope or not a function", () => {
    expect(() => onCancelled({} as CancelScope, () => {})).toThrow(new TypeError("onCancelled() needs a CancelScope"));
    expect(() => onCancelled(new CancelScope(), "no" as never)).toThrow(new TypeError("onCancelled() callback must be a function"));
  });
});
