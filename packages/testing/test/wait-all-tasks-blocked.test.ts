import { setTimeout as hostDelay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { CancelScope, checkpoint, moveOnAfter, run, sleep, sleepForever, taskGroup } from "@quartet/core";
import { MockClock, waitAllTasksBlocked } from "../src/index.js";

describe("waitAllTasksBlocked", () => {
  it("resolves once every other task has run up to a blocking operation", async () => {
    const log: string[] = [];
    await run(async () => {
      await taskGroup(async (tg) => {
        for (const name of ["a", "b", "c"]) {
          tg.spawn(async () => {
            for (let i = 0; i < 10; i++) await checkpoint();
            log.push(name);
            await sleepForever();
          });
        }
        await waitAllTasksBlocked();
        expect(log.sort()).toEqual(["a", "b", "c"]);
        tg.cancelScope.cancel();
      });
    });
  });

  it("does not resolve while a task is runnable", async () => {
    let spins = 0;
    let waited = false;
    await run(async () => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          // Runnable the whole time: it only passes checkpoints.
          while (spins < 2000) {
            spins++;
            await checkpoint();
          }
        });
        tg.spawn(async () => {
          await waitAllTasksBlocked();
          waited = true;
          expect(spins).toBe(2000);
        });
      });
    });
    expect(waited).toBe(true);
  });

  it("does not resolve while a task awaits a foreign promise", async () => {
    let foreignDone = false;
    await run(async () => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await hostDelay(10);
          foreignDone = true;
        });
        await waitAllTasksBlocked();
        expect(foreignDone).toBe(true);
      });
    });
  });

  it("waits for the cushion of real time with everything blocked", async () => {
    await run(async () => {
      const started = performance.now();
      await waitAllTasksBlocked(5);
      expect(performance.now() - started).toBeGreaterThanOrEqual(4);
    });
  });

  it("is a checkpoint: cancellation ends the wait", async () => {
    await run(async () => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          for (;;) await checkpoint(); // never lets the run go idle
        });
        const scope = new CancelScope();
        tg.spawn(async () => {
          await sleep(1);
          scope.cancel();
        });
        await scope.run(() => waitAllTasksBlocked());
        expect(scope.cancelledCaught).toBe(true);
        tg.cancelScope.cancel();
      });
    });
  });

  it("works with a MockClock without autojump, to step virtual time by hand", async () => {
    const clock = new MockClock();
    const log: number[] = [];
    await run(
      async () => {
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            for (let i = 0; i < 3; i++) {
              await sleep(10);
              log.push(clock.now());
            }
          });
          for (let i = 0; i < 3; i++) {
            await waitAllTasksBlocked();
            clock.jump(10);
          }
        });
      },
      { clock },
    );
    expect(log).toEqual([10, 20, 30]);
  });

  it("works outside any run, over the tasks of the implicit root", async () => {
    let reached = false;
    await moveOnAfter(1000, async () => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await checkpoint();
          reached = true;
          await sleepForever();
        });
        await waitAllTasksBlocked();
        expect(reached).toBe(true);
        tg.cancelScope.cancel();
      });
    });
  });

  it("rejects a bad cushion", async () => {
    await expect(waitAllTasksBlocked(-1)).rejects.toThrow(RangeError);
    await expect(waitAllTasksBlocked("1" as never)).rejects.toThrow(TypeError);
  });
});
