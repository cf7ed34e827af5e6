import { setTimeout as hostDelay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  Cancelled,
  CancelScope,
  TaskGroupError,
  checkpoint,
  run,
  sleep,
  sleepForever,
  taskGroup,
  type TaskGroup,
} from "../src/index.js";
import { virtual } from "./virtual-time.js";
import { currentStatistics, currentTaskName } from "../src/lowlevel.js";

describe("taskGroup", () => {
  it("returns the body's value after every child has finished", virtual(async () => {
    const log: string[] = [];
    const result = await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(3);
        log.push("slow child");
      });
      tg.spawn(async () => {
        await sleep(1);
        log.push("fast child");
      });
      log.push("body returns");
      return 42;
    });
    log.push("group returned");
    expect(result).toBe(42);
    expect(log).toEqual(["body returns", "fast child", "slow child", "group returned"]);
  }));

  it("runs a spawned child from a later microtask, never inside spawn()", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        log.push("child");
      });
      log.push("after spawn");
      await Promise.resolve();
      log.push("after one microtask");
    });
    expect(log[0]).toBe("after spawn");
    expect(log).toContain("child");
  }));

  it("lets children spawn into their group while it waits", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(1);
        tg.spawn(async () => {
          await sleep(1);
          log.push("grandchild-level sibling");
        });
        log.push("first child");
      });
    });
    expect(log).toEqual(["first child", "grandchild-level sibling"]);
  }));

  it("a child failure cancels its siblings and the body, whose finally blocks run before taskGroup throws", virtual(async () => {
    const log: string[] = [];
    const boom = new Error("boom");
    const promise = taskGroup(async (tg) => {
      tg.spawn(async () => {
        try {
          await sleepForever();
        } finally {
          // Cleanup that awaits a foreign promise still finishes before the group ends.
          await hostDelay(2);
          log.push("sibling cleaned up");
        }
      });
      tg.spawn(async () => {
        await sleep(1);
        throw boom;
      });
      try {
        await sleepForever();
      } finally {
        log.push("body cleaned up");
      }
    });
    await expect(promise).rejects.toBe(boom);
    expect(log.sort()).toEqual(["body cleaned up", "sibling cleaned up"]);
  }));

  it("throws a single failure as it is", virtual(async () => {
    const error = new TypeError("bad");
    await expect(
      taskGroup(async (tg) => {
        tg.spawn(async () => {
          throw error;
        });
      }),
    ).rejects.toBe(error);
  }));

  it("throws several failures as a TaskGroupError in the order they happened", virtual(async () => {
    const first = new Error("first");
    const second = new Error("second");
    const third = new Error("third");
    const promise = taskGroup(
      async (tg) => {
        tg.spawn(async () => {
          try {
            await sleepForever();
          } finally {
            throw third; // fails while being cancelled, after the others
          }
        });
        tg.spawn(async () => {
          await sleep(1);
          throw first;
        });
        tg.spawn(async () => {
          try {
            await sleepForever();
          } catch {
            throw second;
          }
        });
      },
      { name: "trio" },
    );
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskGroupError);
    expect(error).toBeInstanceOf(AggregateError);
    const group = error as TaskGroupError;
    // `first` cancelled the group; the other two failed while unwinding, in the order they were woken.
    expect(group.errors).toEqual([first, third, second]);
    expect(group.message).toContain('task group "trio"');
    expect(group.name).toBe("TaskGroupError");
  }));

  it("puts the body's failure first when the body failed first", virtual(async () => {
    const bodyError = new Error("body");
    const childError = new Error("child");
    const error = await taskGroup(async (tg) => {
      tg.spawn(async () => {
        try {
          await sleepForever();
        } finally {
          throw childError;
        }
      });
      await sleep(1);
      throw bodyError;
    }).catch((e: unknown) => e);
    expect((error as TaskGroupError).errors).toEqual([bodyError, childError]);
  }));

  it("never reports Cancelled as a failure", virtual(async () => {
    const boom = new Error("boom");
    const error = await taskGroup(async (tg) => {
      for (let i = 0; i < 3; i++) tg.spawn(() => sleepForever());
      tg.spawn(async () => {
        await sleep(1);
        throw boom;
      });
    }).catch((e: unknown) => e);
    expect(error).toBe(boom);
  }));

  it("returns undefined when its own scope caught a cancellation before the body returned", virtual(async () => {
    let scope: CancelScope | undefined;
    const result = await taskGroup(async (tg) => {
      scope = tg.cancelScope;
      tg.spawn(() => sleepForever());
      tg.cancelScope.cancel();
      await checkpoint();
      return "unreachable";
    });
    expect(result).toBeUndefined();
    expect(scope?.cancelCalled).toBe(true);
    expect(scope?.cancelledCaught).toBe(true);
  }));

  it("keeps the body's value when a cancellation is caught after the body returned", virtual(async () => {
    let group: TaskGroup | undefined;
    const result = await taskGroup(async (tg) => {
      group = tg;
      tg.spawn(async () => {
        await sleep(1);
        tg.cancelScope.cancel();
        await sleepForever();
      });
      return "value";
    });
    expect(result).toBe("value");
    expect(group?.cancelScope.cancelledCaught).toBe(true);
  }));

  it("propagates Cancelled out of the group when an enclosing scope was cancelled, and that scope catches it", virtual(async () => {
    const outer = new CancelScope();
    const log: string[] = [];
    const result = await outer.run(async () => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          try {
            await sleepForever();
          } finally {
            log.push("child unwound");
          }
        });
        await sleep(1);
        outer.cancel();
        await sleepForever();
      });
      log.push("unreachable");
    });
    expect(result).toBeUndefined();
    expect(outer.cancelledCaught).toBe(true);
    expect(log).toEqual(["child unwound"]);
  }));

  it("starts a child spawned into a cancelled group, which throws at its first checkpoint", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.cancelScope.cancel();
      tg.spawn(async () => {
        log.push("child started");
        try {
          await checkpoint();
          log.push("unreachable");
        } catch (error) {
          log.push(error instanceof Cancelled ? "cancelled" : "other");
          throw error;
        }
      });
    });
    expect(log).toEqual(["child started", "cancelled"]);
  }));

  it("throws when spawning into a group that has finished", virtual(async () => {
    let escaped: TaskGroup | undefined;
    await taskGroup(async (tg) => {
      escaped = tg;
    }, { name: "done" });
    expect(() => escaped!.spawn(async () => {})).toThrow(/spawn\(\) into task group "done" that has already finished/);
  }));

  it("rejects a task that is not a function, and a name that is not a string", virtual(async () => {
    await taskGroup(async (tg) => {
      expect(() => tg.spawn("nope" as never)).toThrow(TypeError);
      expect(() => tg.spawn("nope" as never)).toThrow(/spawn\(\) task must be a function; got "nope"/);
      expect(() => tg.spawn(async () => {}, { name: 5 as never })).toThrow(/name must be a string/);
    });
    await expect(taskGroup(42 as never)).rejects.toThrow(/taskGroup\(\) body must be a function; got 42/);
  }));

  it("nests: a failure deep inside cancels the outer group's other tasks", virtual(async () => {
    const log: string[] = [];
    const boom = new Error("deep");
    const error = await taskGroup(async (outer) => {
      outer.spawn(async () => {
        try {
          await sleepForever();
        } finally {
          log.push("outer sibling unwound");
        }
      });
      await taskGroup(async (inner) => {
        inner.spawn(async () => {
          try {
            await sleepForever();
          } finally {
            log.push("inner sibling unwound");
          }
        });
        inner.spawn(async () => {
          await sleep(1);
          throw boom;
        });
      });
    }).catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(log.sort()).toEqual(["inner sibling unwound", "outer sibling unwound"]);
  }));

  it("cancelling an inner group's scope leaves the outer group running", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (outer) => {
      outer.spawn(async () => {
        await sleep(2);
        log.push("outer child finished");
      });
      await taskGroup(async (inner) => {
        inner.spawn(() => sleepForever());
        await sleep(1);
        inner.cancelScope.cancel();
      });
      log.push("inner group done");
    });
    expect(log).toEqual(["inner group done", "outer child finished"]);
  }));

  it("names tasks after the name option, else the function", virtual(async () => {
    const names: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => void names.push(currentTaskName()), { name: "worker" });
      tg.spawn(async function fetcher() {
        names.push(currentTaskName());
      });
    });
    expect(names.sort()).toEqual(["fetcher", "worker"]);
  }));

  it("leaves no task alive once it has returned", async () => {
    await run(async () => {
      await taskGroup(async (tg) => {
        for (let i = 0; i < 10; i++) tg.spawn(() => sleep(1));
        await checkpoint();
        expect(currentStatistics().tasksLiving).toBe(11);
      });
      expect(currentStatistics().tasksLiving).toBe(1);
    });
  });
});

describe("taskGroup with tasks that are not async functions", () => {
  it("accepts a plain function, a custom thenable and a rejected thenable as a task", async () => {
    const log: string[] = [];
    const error = new Error("thenable failed");
    const result = await taskGroup(async (tg) => {
      tg.spawn((() => {
        log.push("plain function ran");
      }) as never);
      tg.spawn(() => ({ then: (resolve: () => void) => setImmediate(() => (log.push("thenable resolved"), resolve())) }) as never);
      return "done";
    });
    expect(result).toBe("done");
    expect(log).toEqual(["plain function ran", "thenable resolved"]);
    await expect(
      taskGroup(async (tg) => {
        tg.spawn(() => ({ then: (_: unknown, reject: (e: unknown) => void) => setImmediate(() => reject(error)) }) as never);
      }),
    ).rejects.toBe(error);
  });
});
