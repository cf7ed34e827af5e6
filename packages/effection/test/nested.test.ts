import { describe, expect, it } from "vitest";
import { CancelScope, currentEffectiveDeadline, Event, moveOnAfter, now, run, sleep, sleepForever, taskGroup } from "@quartet/core";
import { currentTaskName, taskTree, type TaskTreeTask } from "@quartet/core/lowlevel";
import { MockClock, waitAllTasksBlocked } from "@quartet/testing";
import { createContext, run as runEffection, suspend, until } from "effection";
import { fromOperation, toOperation } from "../src/index.js";

function tasksOf(task: TaskTreeTask): TaskTreeTask[] {
  return [task, ...task.scopes.flatMap((scope) => scope.tasks.flatMap(tasksOf))];
}

describe("nested bridging", () => {
  it("Quartet → effection → Quartet → effection: cancelling the outermost scope unwinds the innermost first", async () => {
    const log: string[] = [];
    const started = new Event();
    const outer = new CancelScope({ name: "outer" });
    await taskGroup(async (tg) => {
      tg.spawn(() =>
        outer.run(async () => {
          try {
            await fromOperation(function* () {
              try {
                yield* toOperation(async () => {
                  try {
                    await fromOperation(function* () {
                      try {
                        started.set();
                        yield* suspend();
                      } finally {
                        yield* until(Promise.resolve());
                        log.push("innermost effection finally");
                      }
                    });
                  } finally {
                    await Promise.resolve();
                    log.push("middle Quartet finally");
                  }
                });
                log.push("LEAKED: the outer operation went on");
              } catch (error) {
                log.push(`LEAKED: the outer operation caught ${(error as Error).name}`);
              } finally {
                log.push("outer effection finally");
              }
            });
          } finally {
            log.push("outermost Quartet finally");
          }
        }),
      );
      await started.wait();
      outer.cancel();
    });
    expect(log).toEqual(["innermost effection finally", "middle Quartet finally", "outer effection finally", "outermost Quartet finally"]);
    expect(outer.cancelledCaught).toBe(true);
  });

  it("effection → Quartet → effection: halting the outermost task unwinds the innermost first", async () => {
    const log: string[] = [];
    const started = new Event();
    const task = runEffection(function* () {
      try {
        yield* toOperation(async () => {
          try {
            await fromOperation(function* () {
              try {
                started.set();
                yield* suspend();
              } finally {
                log.push("inner effection finally");
              }
            });
          } finally {
            log.push("Quartet finally");
          }
        });
      } finally {
        log.push("outer effection finally");
      }
    });
    await started.wait();
    await task.halt();
    log.push("halted");
    expect(log).toEqual(["inner effection finally", "Quartet finally", "outer effection finally", "halted"]);
  });

  it("carries an error through every level as the same object", async () => {
    const failure = new Error("from the innermost operation");
    const error = await fromOperation(() =>
      toOperation(() =>
        fromOperation(function* () {
          yield* until(Promise.resolve());
          throw failure;
        }),
      ),
    ).catch((e: unknown) => e);
    expect(error).toBe(failure);
  });

  it("runs a function of toOperation() as a task under the fromOperation() caller's scope: its deadline, its clock, its task tree", async () => {
    const clock = new MockClock({ autojumpThreshold: 0 });
    await run(async () => {
      await moveOnAfter(5000, async () => {
        const deadline = currentEffectiveDeadline();
        const seen = await fromOperation(() =>
          toOperation(async function lookup() {
            await sleep(1000); // on the virtual clock
            return { deadline: currentEffectiveDeadline(), now: now(), task: currentTaskName() };
          }),
        );
        expect(seen).toEqual({ deadline, now: 1000, task: "lookup" });
      });
      await taskGroup(async (tg) => {
        tg.spawn(() => fromOperation(() => toOperation(async function waitsInQuartet() {
          await sleepForever();
        })), { name: "bridge" });
        await waitAllTasksBlocked();
        const bridge = tasksOf(taskTree().main).find((task) => task.name === "bridge")!;
        const inner = tasksOf(bridge).find((task) => task.name === "waitsInQuartet")!;
        expect(bridge.wait?.operation).toBe("fromOperation");
        expect(inner.state).toBe("blocked");
        expect(inner.wait?.operation).toBe("sleep");
        tg.cancelScope.cancel();
      });
    }, { clock });
  });

  it("a deadline of the fromOperation() caller cancels the Quartet function inside, which the operation sees as a halt", async () => {
    const log: string[] = [];
    const clock = new MockClock({ autojumpThreshold: 0 });
    await run(async () => {
      const result = await moveOnAfter(100, () =>
        fromOperation(function* () {
          try {
            yield* toOperation(() => sleep(60_000));
            log.push("LEAKED: the sleep returned");
          } catch (error) {
            log.push(`LEAKED: the operation caught ${(error as Error).name}`);
          } finally {
            log.push("operation finally");
          }
        }),
      );
      log.push(`moveOnAfter returned ${result} at ${now()}`);
    }, { clock });
    expect(log).toEqual(["operation finally", "moveOnAfter returned undefined at 100"]);
  });

  it("lets the inner operation see the effection contexts of the outer one", async () => {
    const User = createContext<string>("test.nested.user");
    const user = await fromOperation(function* () {
      yield* User.set("alice");
      return yield* toOperation(() => fromOperation(() => User.expect()));
    });
    expect(user).toBe("alice");
  });

  it("lets an operation's finally block call Quartet code while the caller is cancelled: shielded cleanup runs, unshielded gets Cancelled", async () => {
    for (const shield of [true, false]) {
      const log: string[] = [];
      const started = new Event();
      const scope = new CancelScope();
      await taskGroup(async (tg) => {
        tg.spawn(() =>
          scope.run(() =>
            fromOperation(function* () {
              try {
                started.set();
                yield* suspend();
              } finally {
                try {
                  yield* toOperation(() =>
                    moveOnAfter(1000, async () => {
                      await sleep(0); // a Quartet checkpoint in the cleanup
                      log.push("cleanup ran");
                    }, { shield }),
                  );
                } catch (error) {
                  log.push(`cleanup threw ${(error as Error).name}`);
                }
              }
            }),
          ),
        );
        await started.wait();
        scope.cancel();
      });
      expect(log).toEqual([shield ? "cleanup ran" : "cleanup threw Cancelled"]);
      expect(scope.cancelledCaught).toBe(true);
    }
  });

  it("does not throw the caller's Cancelled into the operation when a Quartet function ends with it before the halt: the operation sees the halt", async () => {
    const log: string[] = [];
    const scope = new CancelScope();
    let ready: () => void = () => {};
    const resumed = new Promise<void>((resolve) => (ready = resolve));
    const started = new Event();
    await taskGroup(async (tg) => {
      tg.spawn(() =>
        scope.run(() =>
          fromOperation(function* () {
            try {
              started.set();
              yield* until(resumed);
              // The caller's scope is cancelled by now, and the halt has not reached this task yet.
              yield* toOperation(async () => {
                log.push("function called");
                await sleep(0);
              });
              log.push("LEAKED: the operation went on");
            } catch (error) {
              log.push(`LEAKED: the operation caught ${(error as Error).name}`);
            } finally {
              log.push("operation finally");
            }
          }),
        ),
      );
      await started.wait();
      ready();
      scope.cancel();
    });
    expect(log.filter((entry) => entry !== "function called")).toEqual(["operation finally"]);
  });
});
