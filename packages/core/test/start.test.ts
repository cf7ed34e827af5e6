import { describe, expect, it } from "vitest";
import {
  Cancelled,
  CancelScope,
  TASK_STATUS_IGNORED,
  checkpoint,
  sleep,
  sleepForever,
  taskGroup,
  type TaskGroup,
  type TaskStatus,
} from "../src/index.js";
import { virtual } from "./virtual-time.js";

/** Resolves when `flag()` is true, checking after every microtask-ish hop. */
async function until(flag: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !flag(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(flag()).toBe(true);
}

describe("TaskGroup.start", () => {
  it("resolves with the value passed to started(), after setup and before the task ends", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const port = await tg.start<number>(async (status) => {
        log.push("setting up");
        await sleep(1);
        status.started(8080);
        log.push("serving");
        await sleep(2);
        log.push("service done");
      });
      log.push(`started on ${port}`);
    });
    // started() resolves start() but does not interrupt the task: it goes on until its next await.
    expect(log).toEqual(["setting up", "serving", "started on 8080", "service done"]);
  }));

  it("lets a void status be started with no argument", virtual(async () => {
    const result = await taskGroup(async (tg) => {
      const value = await tg.start(async (status: TaskStatus) => {
        status.started();
      });
      return value;
    });
    expect(result).toBeUndefined();
  }));

  it("throws an error from before started() out of start(), after the task's cleanup, and not into the group", virtual(async () => {
    const log: string[] = [];
    const setupError = new Error("cannot bind");
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(3);
        log.push("sibling unaffected");
      });
      const error = await tg
        .start(async () => {
          try {
            await sleep(1);
            throw setupError;
          } finally {
            await sleep(1);
            log.push("task cleaned up");
          }
        })
        .catch((e: unknown) => e);
      expect(error).toBe(setupError);
      log.push("start() threw");
    });
    expect(log).toEqual(["task cleaned up", "start() threw", "sibling unaffected"]);
  }));

  it("lets started be passed on by itself, as a callback", virtual(async () => {
    const result = await taskGroup(async (tg) => {
      const value = await tg.start<string>(async ({ started }) => {
        const ready = (callback: (value: string) => void) => callback("listening");
        ready(started);
        await sleep(1);
      });
      return value;
    });
    expect(result).toBe("listening");
  }));

  it("sends an error from after started() into the group", virtual(async () => {
    const late = new Error("crashed while serving");
    const log: string[] = [];
    const error = await taskGroup(async (tg) => {
      await tg.start(async (status: TaskStatus) => {
        status.started();
        await sleep(1);
        throw late;
      });
      log.push("start() returned");
      await sleepForever();
    }).catch((e: unknown) => e);
    expect(error).toBe(late);
    expect(log).toEqual(["start() returned"]);
  }));

  it("throws when the task returns without calling started()", virtual(async () => {
    await taskGroup(async (tg) => {
      await expect(tg.start(async function lazy() {}, {})).rejects.toThrow(
        /task "lazy" passed to start\(\) returned without calling started\(\)/,
      );
    });
  }));

  it("throws in the task on a second started(), and start() keeps the first value", virtual(async () => {
    let secondError: unknown;
    const value = await taskGroup(async (tg) => {
      return tg.start<string>(async (status) => {
        status.started("first");
        try {
          status.started("second");
        } catch (error) {
          secondError = error;
        }
      });
    });
    expect(value).toBe("first");
    expect(secondError).toBeInstanceOf(Error);
    expect(String(secondError)).toMatch(/started\(\) was called twice/);
  }));

  it("throws without running the function when the group has finished", virtual(async () => {
    let escaped: TaskGroup | undefined;
    await taskGroup(async (tg) => {
      escaped = tg;
    });
    let ran = false;
    await expect(
      escaped!.start(async () => {
        ran = true;
      }),
    ).rejects.toThrow(/start\(\) into the task group that has already finished/);
    expect(ran).toBe(false);
  }));

  it("rejects a task that is not a function with a TypeError", virtual(async () => {
    await taskGroup(async (tg) => {
      await expect(tg.start(null as never)).rejects.toThrow(TypeError);
    });
  }));

  it("cancels the task with its caller until started() is called", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const caller = new CancelScope();
      await caller.run(async () => {
        const starting = tg.start(async () => {
          try {
            await sleepForever();
          } finally {
            log.push("task unwound");
          }
        });
        await sleep(1);
        caller.cancel();
        await starting;
      });
      expect(caller.cancelledCaught).toBe(true);
      log.push("caller moved on");
    });
    expect(log).toEqual(["task unwound", "caller moved on"]);
  }));

  it("after started(), the task is cancelled by the group's scope and no longer by the caller's", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const caller = new CancelScope();
      await caller.run(async () => {
        await tg.start(async (status: TaskStatus) => {
          status.started();
          try {
            await sleep(2);
            log.push("survived the caller's cancellation");
            await sleepForever();
          } finally {
            log.push("task unwound");
          }
        });
        caller.cancel();
        await checkpoint();
      });
      log.push("caller cancelled");
      await sleep(3);
      tg.cancelScope.cancel();
    });
    expect(log).toEqual(["caller cancelled", "survived the caller's cancellation", "task unwound"]);
  }));

  it("moves the task's nested groups and scopes into the group along with it", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const caller = new CancelScope();
      await caller.run(async () => {
        await tg.start(async (status: TaskStatus) => {
          await taskGroup(async (inner) => {
            inner.spawn(async () => {
              try {
                await sleepForever();
              } finally {
                log.push("nested child unwound");
              }
            });
            await checkpoint();
            status.started();
          });
        });
        caller.cancel();
      });
      await sleep(1);
      log.push("nested child still running after the caller was cancelled");
      tg.cancelScope.cancel();
    });
    expect(log).toEqual(["nested child still running after the caller was cancelled", "nested child unwound"]);
  }));

  it("wakes the task's waiting children with Cancelled when it moves into a cancelled group", virtual(async () => {
    const log: string[] = [];
    let target: TaskGroup | undefined;
    let release: (() => void) | undefined;
    await taskGroup(async (outer) => {
      outer.spawn(() =>
        taskGroup(async (tg) => {
          target = tg;
          tg.cancelScope.cancel();
          // Wait without a checkpoint, so that the group stays open though cancelled.
          await new Promise<void>((resolve) => (release = resolve));
        }),
      );
      await until(() => target !== undefined);
      // The caller (this body) is not cancelled, so setup runs normally.
      const value = await target!.start<string>(async (status) => {
        await taskGroup(async (inner) => {
          inner.spawn(async () => {
            try {
              await sleepForever();
            } catch (error) {
              log.push(error instanceof Cancelled ? "woken with Cancelled" : "other error");
              throw error;
            }
          });
          await checkpoint(); // not cancelled: the task still belongs to the caller
          log.push("set up");
          status.started("ready");
        });
      });
      log.push(`start() returned ${value}`);
      release!();
    });
    // The child is woken by started() itself, so it may log before start() has resumed the caller.
    expect(log[0]).toBe("set up");
    expect(log.slice(1).sort()).toEqual(["start() returned ready", "woken with Cancelled"]);
  }));

  it("keeps the group open while a start() into it is pending", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (outer) => {
      let setupBegan = false;
      await taskGroup(async (inner) => {
        outer.spawn(async () => {
          await inner.start(async (status: TaskStatus) => {
            setupBegan = true;
            await sleep(2);
            status.started();
            await sleep(1);
            log.push("service finished");
          });
          log.push("service started");
        });
        await until(() => setupBegan);
        log.push("inner body returned");
      });
      log.push("inner group closed");
    });
    expect(log).toEqual(["inner body returned", "service started", "service finished", "inner group closed"]);
  }));

  it("in an already-cancelled caller, runs the function until its first checkpoint, which throws", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const caller = new CancelScope();
      caller.cancel();
      await caller.run(async () => {
        await tg.start(async () => {
          log.push("ran");
          try {
            await checkpoint();
          } catch (error) {
            log.push(error instanceof Cancelled ? "first checkpoint threw Cancelled" : "other");
            throw error;
          }
        });
        log.push("unreachable");
      });
      expect(caller.cancelledCaught).toBe(true);
    });
    expect(log).toEqual(["ran", "first checkpoint threw Cancelled"]);
  }));

  it("records started() called while the caller is cancelled and does not move the task", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const caller = new CancelScope();
      await caller.run(async () => {
        const starting = tg.start<string>(async (status) => {
          try {
            await sleepForever();
          } catch (error) {
            // Cleanup reports readiness while the caller is cancelled.
            status.started("late");
            log.push("started() recorded");
            try {
              await checkpoint();
            } catch {
              log.push("still cancelled: the task stayed with the caller");
            }
            throw error;
          }
        });
        await sleep(1);
        caller.cancel();
        await starting;
        log.push("unreachable");
      });
      expect(caller.cancelledCaught).toBe(true);
      log.push("group still running, not cancelled");
      expect(tg.cancelScope.cancelCalled).toBe(false);
    });
    expect(log).toEqual(["started() recorded", "still cancelled: the task stayed with the caller", "group still running, not cancelled"]);
  }));

  it("throws from started() when called after the task returned", virtual(async () => {
    let leaked: TaskStatus | undefined;
    await taskGroup(async (tg) => {
      await expect(
        tg.start(async function quitter(status: TaskStatus) {
          leaked = status;
        }),
      ).rejects.toThrow(/without calling started/);
    });
    expect(() => leaked!.started()).toThrow(/started\(\) was called by task "quitter" after it had returned/);
  }));

  it("TASK_STATUS_IGNORED lets a start()-shaped function be awaited directly", virtual(async () => {
    async function service(status: TaskStatus<number> = TASK_STATUS_IGNORED): Promise<string> {
      status.started(1);
      status.started(2); // ignored, no error
      return "ran directly";
    }
    expect(await service()).toBe("ran directly");
    expect(Object.isFrozen(TASK_STATUS_IGNORED)).toBe(true);
  }));
});
