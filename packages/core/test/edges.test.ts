// The guarantees at the edges (DESIGN §3 "Edges"): a group's closing moment,
// thrown values that cannot become strings, thenables that misbehave, deep
// nesting, deadlines in CPU-bound code, and the small print of cancel scopes.
import { describe, expect, it } from "vitest";
import {
  Cancelled,
  CancelScope,
  TaskGroupError,
  all,
  checkpoint,
  currentSignal,
  isCancelled,
  moveOnAfter,
  now,
  openMemoryChannel,
  race,
  run,
  sleep,
  sleepForever,
  taskGroup,
  type TaskGroup,
} from "../src/index.js";
import { MockClock, virtual } from "./virtual-time.js";

/** Values that `String()` cannot convert, or whose every property read throws. */
function hostileValues(): Array<[string, unknown]> {
  const throwingMessage = new Error("x");
  Object.defineProperty(throwingMessage, "message", { get: () => { throw new Error("no message for you"); } });
  const trap = (): never => { throw new Error("trapped"); };
  const proxy = new Proxy({}, { get: trap, has: trap, getPrototypeOf: trap, isExtensible: trap, defineProperty: trap, ownKeys: trap });
  return [
    ["an object with no prototype", Object.create(null)],
    ["a symbol", Symbol("odd")],
    ["undefined", undefined],
    ["null", null],
    ["a string", "plain string"],
    ["an Error whose message getter throws", throwingMessage],
    ["a Proxy whose every trap throws", proxy],
    ["an object whose toString throws", { toString: trap }],
  ];
}

describe("a task group's closing moment", () => {
  /**
   * For k = 0…12: the group's last child, as it returns, arranges for `attempt` to run k
   * microtasks later, from outside any of the group's tasks. Returns, per k, whether the attempt
   * was accepted, whether the group had returned by then, and whether the work it added had
   * finished when the group returned.
   */
  async function probeClosingWindow(attempt: (tg: TaskGroup, done: () => void) => void): Promise<Array<{ k: number; accepted: boolean; groupReturned: boolean; doneBeforeReturn: boolean }>> {
    const results = [];
    for (let k = 0; k <= 12; k++) {
      let accepted = false;
      let groupReturned = false;
      let done = false;
      let doneBeforeReturn = false;
      let attemptedWhileOpen = false;
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await sleep(1);
          let hops = k;
          const hop = (): void => {
            if (hops-- > 0) return queueMicrotask(hop);
            attemptedWhileOpen = !groupReturned;
            try {
              attempt(tg, () => void (done = true));
              accepted = true;
            } catch {
              accepted = false;
            }
          };
          queueMicrotask(hop);
        });
      });
      groupReturned = true;
      doneBeforeReturn = done;
      await sleep(20); // let accepted work that escaped finish, so that the test leaves nothing behind
      results.push({ k, accepted, groupReturned: !attemptedWhileOpen, doneBeforeReturn });
    }
    return results;
  }

  it("refuses spawn() from the moment it stops waiting, so no task outlives it", virtual(async () => {
    const results = await probeClosingWindow((tg, done) =>
      tg.spawn(async () => {
        for (let i = 0; i < 5; i++) await null;
        done();
      }),
    );
    for (const r of results) if (r.accepted) expect(r, `k=${r.k}`).toMatchObject({ doneBeforeReturn: true });
    // Both sides of the closing moment were probed: early attempts are accepted, and some
    // attempts made before taskGroup had returned were already refused.
    expect(results.some((r) => r.accepted)).toBe(true);
    expect(results.some((r) => !r.accepted && !r.groupReturned)).toBe(true);
  }));

  it("refuses start() in the same window without running the function", virtual(async () => {
    const refusals: unknown[] = [];
    let runs = 0;
    const results = await probeClosingWindow((tg, done) => {
      tg.start(async (status) => {
        runs++;
        status.started();
        for (let i = 0; i < 5; i++) await null;
        done();
      }).catch((error: unknown) => void refusals.push(error));
    });
    await sleep(1);
    // start() is async: an attempt counts as accepted here; a refusal shows as a rejection.
    expect(refusals.length).toBeGreaterThan(0);
    for (const error of refusals) expect(String(error)).toMatch(/start\(\) into the task group that has already finished/);
    expect(runs + refusals.length).toBe(results.length); // a refused start() never ran its function
    const ranAndFinishedLate = results.filter((r) => !r.doneBeforeReturn).length;
    expect(ranAndFinishedLate).toBe(refusals.length); // every start() not refused finished inside the group
  }));

  it("accepts spawns from its own children until the last one ends, and waits for all of them", virtual(async () => {
    const ended: number[] = [];
    await taskGroup(async (tg) => {
      const chain = (n: number): void =>
        tg.spawn(async () => {
          await sleep(1);
          if (n < 5) chain(n + 1); // spawned by a child as it ends: the group is still waiting
          ended.push(n);
        });
      chain(1);
    });
    expect(ended).toEqual([1, 2, 3, 4, 5]);
  }));

  it("throws a spawn() into a finished group with a message saying so", virtual(async () => {
    let leaked: TaskGroup | undefined;
    await taskGroup(async (tg) => {
      leaked = tg;
    });
    expect(() => leaked!.spawn(async () => {})).toThrow("spawn() into the task group that has already finished");
    let ran = false;
    await expect(leaked!.start(async () => void (ran = true))).rejects.toThrow("start() into the task group that has already finished");
    expect(ran).toBe(false);
  }));
});

describe("values that cannot become strings", () => {
  for (const [what, value] of hostileValues()) {
    it(`carries ${what} thrown by a child as it is, and the group ends`, virtual(async () => {
      let sibling = "not cancelled";
      const thrown = await taskGroup(async (tg) => {
        tg.spawn(async () => {
          try {
            await sleepForever();
          } catch (error) {
            sibling = error instanceof Cancelled ? "cancelled" : "other";
            throw error;
          }
        });
        tg.spawn(async () => {
          await sleep(1);
          throw value;
        });
      }).then(
        () => "returned",
        (error: unknown) => ({ error }),
      );
      expect(thrown).not.toBe("returned");
      expect((thrown as { error: unknown }).error).toBe(value);
      expect(sibling).toBe("cancelled");
    }));

    it(`cancels a scope with ${what} as the reason`, virtual(async () => {
      const scope = new CancelScope();
      let seen: unknown = "nothing";
      await scope.run(async () => {
        scope.cancel(value);
        try {
          await checkpoint();
        } catch (error) {
          seen = error;
          throw error;
        }
      });
      expect(seen).toBeInstanceOf(Cancelled);
      expect((seen as Cancelled).reason).toBe(value);
      expect(typeof (seen as Cancelled).message).toBe("string");
      expect(scope.signal.reason).toBe(seen);
      expect(scope.cancelledCaught).toBe(true);
    }));
  }

  it("collects several hostile failures into a TaskGroupError whose message still reads", virtual(async () => {
    const values = hostileValues().map(([, value]) => value);
    const error = await taskGroup(async (tg) => {
      for (const value of values) tg.spawn(async () => { throw value; });
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskGroupError);
    const errors = (error as TaskGroupError).errors;
    expect(errors.length).toBe(values.length);
    values.forEach((value, i) => expect(errors[i]).toBe(value));
    expect((error as TaskGroupError).message).toMatch(/^8 tasks failed in task group: /);
  }));

  it("carries a hostile value through run(), all() and race(), and isCancelled says no", async () => {
    for (const [, value] of hostileValues()) {
      await expect(run(async () => { throw value; })).rejects.toBe(value);
      await expect(run(() => all([async () => { throw value; }, () => sleepForever()]))).rejects.toBe(value);
      await expect(run(() => race([async () => { throw value; }, () => sleepForever()]))).rejects.toBe(value);
      expect(isCancelled(value)).toBe(false);
    }
  });
});

describe("thenables that settle more than once", () => {
  /** A thenable that calls back as `script` says, synchronously or later. */
  function thenable(script: (onFulfilled: (v: unknown) => void, onRejected: (e: unknown) => void) => void): PromiseLike<unknown> {
    return { then: ((onFulfilled: (v: unknown) => void, onRejected: (e: unknown) => void) => script(onFulfilled, onRejected)) as PromiseLike<unknown>["then"] };
  }

  const scripts: Array<[string, (ok: (v: unknown) => void, fail: (e: unknown) => void) => void]> = [
    ["fulfils twice", (ok) => { ok(1); ok(2); }],
    ["fulfils, then rejects", (ok, fail) => { ok(1); fail(new Error("late")); }],
    ["fulfils, then throws from then()", (ok) => { ok(1); throw new Error("late throw"); }],
    ["fulfils later, twice", (ok) => { setImmediate(() => { ok(1); ok(2); }); }],
  ];

  for (const [what, script] of scripts) {
    it(`counts only the first settlement of a task's thenable that ${what}`, virtual(async () => {
      const log: string[] = [];
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await sleep(5);
          log.push("slow sibling done");
        });
        tg.spawn(() => thenable(script) as Promise<unknown>);
        tg.spawn(() => thenable(script) as Promise<unknown>);
      });
      log.push("group returned");
      // Ending twice would have let the group return before its sibling finished, or failed it.
      expect(log).toEqual(["slow sibling done", "group returned"]);
    }));
  }

  it("fails the task when the thenable rejects first, and ignores a later fulfilment", virtual(async () => {
    const boom = new Error("first");
    await expect(taskGroup(async (tg) => {
      tg.spawn(() => thenable((ok, fail) => { fail(boom); ok(1); }) as Promise<unknown>);
    })).rejects.toBe(boom);
  }));

  it("fails the task with the error of a `then` getter that throws", virtual(async () => {
    const boom = new Error("no then for you");
    const evil = Object.defineProperty({}, "then", { get: () => { throw boom; } });
    await expect(taskGroup(async (tg) => {
      tg.spawn(() => evil as Promise<unknown>);
    })).rejects.toBe(boom);
  }));

  it("watches a Promise subclass with an overridden then() by its first settlement only", virtual(async () => {
    class Twice<T> extends Promise<T> {
      override then<A, B>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
        const result = super.then(onFulfilled, onRejected);
        super.then(onFulfilled, onRejected); // calls back a second time
        return result;
      }
    }
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(5);
        log.push("sibling done");
      });
      tg.spawn(() => Twice.resolve(1));
    });
    log.push("group returned");
    expect(log).toEqual(["sibling done", "group returned"]);
  }));
});

describe("deep nesting", () => {
  /** Nests `depth` scopes (each level awaits before going deeper, so the call stack stays flat). */
  async function nestScopes(depth: number, outermost: CancelScope, onInnermost: () => void): Promise<{ caught: number; innermostSaw: unknown }> {
    let innermostSaw: unknown;
    const scopes: CancelScope[] = [outermost];
    for (let i = 1; i < depth; i++) scopes.push(new CancelScope());
    const enter = async (level: number): Promise<void> => {
      await scopes[level]!.run(async () => {
        await null;
        if (level + 1 < depth) return enter(level + 1);
        onInnermost();
        try {
          await sleepForever();
        } catch (error) {
          innermostSaw = error;
          throw error;
        }
      });
    };
    await enter(0);
    return { caught: scopes.filter((scope) => scope.cancelledCaught).length, innermostSaw };
  }

  it("cancels 100,000 nested scopes from the outermost", virtual(async () => {
    const outermost = new CancelScope();
    const { caught, innermostSaw } = await nestScopes(100_000, outermost, () => outermost.cancel("stop"));
    expect(innermostSaw).toBeInstanceOf(Cancelled);
    expect((innermostSaw as Cancelled).reason).toBe("stop");
    expect(caught).toBe(1); // the outermost cancelled scope catches it; the others let it pass
    expect(outermost.cancelledCaught).toBe(true);
  }), 20_000);

  it("cancels 100,000 nested scopes when the outermost's deadline passes", virtual(async () => {
    const outermost = new CancelScope({ deadline: now() + 10 });
    const { caught, innermostSaw } = await nestScopes(100_000, outermost, () => {});
    expect(innermostSaw).toBeInstanceOf(Cancelled);
    expect(caught).toBe(1);
    expect(outermost.cancelCalled).toBe(true);
  }), 20_000);

  /** Nests `depth` task groups, each child opening the next group; every level has a sleeping sibling. */
  async function nestGroups(depth: number, cancelTop: (tg: TaskGroup) => void, counter = { finallies: 0 }): Promise<{ finallies: number }> {
    const level = async (n: number): Promise<void> => {
      await taskGroup(async (tg) => {
        if (n === 0) cancelTop(tg);
        tg.spawn(async () => {
          try {
            await sleepForever();
          } finally {
            counter.finallies++;
          }
        });
        if (n + 1 < depth) tg.spawn(() => level(n + 1));
      });
    };
    await level(0);
    return counter;
  }

  it("cancels 20,000 nested task groups from the top, running every finally", virtual(async () => {
    const { finallies } = await nestGroups(20_000, (tg) =>
      tg.spawn(async () => {
        await sleep(1);
        tg.cancelScope.cancel();
      }),
    );
    expect(finallies).toBe(20_000);
  }), 20_000);

  it("cancels 20,000 nested task groups from a deadline", virtual(async () => {
    const counter = { finallies: 0 };
    const scope = new CancelScope({ deadline: now() + 1 });
    await scope.run(() => nestGroups(20_000, () => {}, counter));
    expect(scope.cancelledCaught).toBe(true);
    expect(counter.finallies).toBe(20_000);
  }), 20_000);

  it("classifies an error nested 100,000 deep in disposal errors without overflowing the stack", virtual(async () => {
    /** What `using` makes when a disposer throws while an error unwinds. */
    class SuppressedError extends Error {
      constructor(readonly error: unknown, readonly suppressed: unknown) {
        super("an error was suppressed during disposal");
        this.name = "SuppressedError";
      }
    }
    const scope = new CancelScope();
    await scope.run(async () => {
      scope.cancel();
      const cancelled = await checkpoint().catch((error: unknown) => error);
      let onlyCancellations: unknown = cancelled;
      let oneFailureDeepInside: unknown = new Error("a disposer really failed");
      for (let i = 0; i < 100_000; i++) {
        onlyCancellations = new SuppressedError(onlyCancellations, cancelled);
        oneFailureDeepInside = new SuppressedError(cancelled, oneFailureDeepInside);
      }
      expect(isCancelled(onlyCancellations)).toBe(true);
      expect(isCancelled(oneFailureDeepInside)).toBe(false);
      throw onlyCancellations;
    });
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("aborts every signal of 10,000 nested scopes, innermost first, once", virtual(async () => {
    const order: number[] = [];
    const outermost = new CancelScope();
    const enter = async (level: number): Promise<void> => {
      const scope = level === 0 ? outermost : new CancelScope();
      await scope.run(async () => {
        currentSignal().addEventListener("abort", () => order.push(level));
        await null;
        if (level + 1 < 10_000) return enter(level + 1);
        outermost.cancel();
        await checkpoint();
      });
    };
    await enter(0);
    expect(order.length).toBe(10_000);
    expect(order[0]).toBe(9_999);
    expect(order.at(-1)).toBe(0);
  }), 20_000);
});

describe("deadlines in CPU-bound code", () => {
  /** Runs `body` on a MockClock without autojump; "work" advances it as busy code would. */
  function manual(body: (work: (ms: number) => void) => Promise<void>): () => Promise<void> {
    const clock = new MockClock();
    return () => run(() => body((ms) => clock.jump(ms)), { clock });
  }

  it("checkpoint() notices a deadline that passed while the task computed", manual(async (work) => {
    let rounds = 0;
    await moveOnAfter(5, async () => {
      for (;;) {
        work(1); // 1 ms of computation: no timer can fire meanwhile
        rounds++;
        await checkpoint();
      }
    });
    expect(rounds).toBe(5);
  }));

  it("sleep(0) notices it too", manual(async (work) => {
    let rounds = 0;
    await moveOnAfter(3, async () => {
      for (;;) {
        work(1);
        rounds++;
        await sleep(0);
      }
    });
    expect(rounds).toBe(3);
  }));

  it("a loop of sends that never block notices it within 16 operations", manual(async (work) => {
    const [send, receive] = openMemoryChannel<number>(Infinity);
    let rounds = 0;
    await moveOnAfter(5, async () => {
      for (;;) {
        work(1);
        rounds++;
        await send.send(rounds);
      }
    });
    expect(rounds).toBeGreaterThanOrEqual(5);
    expect(rounds).toBeLessThanOrEqual(5 + 16);
    send.close();
    receive.close();
  }));

  it("fires a sleeper that is due at the same checkpoint, so time order is kept", manual(async (work) => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(2);
        log.push("sleeper woke");
      });
      await sleep(0);
      await moveOnAfter(4, async () => {
        for (;;) {
          work(1);
          await checkpoint();
          log.push(`round at ${now()}`);
        }
      });
      log.push("moved on");
    });
    expect(log.indexOf("sleeper woke")).toBeGreaterThan(-1);
    expect(log.at(-1)).toBe("moved on");
    expect(log.filter((entry) => entry.startsWith("round")).length).toBeLessThan(4);
  }));
});

describe("cancel scopes before they run", () => {
  it("aborts the signal of a scope cancelled before run(), taken before or after", virtual(async () => {
    const before = new CancelScope();
    const early = before.signal;
    before.cancel("early");
    expect(early.aborted).toBe(true);
    expect(early.reason).toBeInstanceOf(Cancelled);
    expect((early.reason as Cancelled).reason).toBe("early");

    const after = new CancelScope();
    after.cancel("later");
    expect(after.signal.aborted).toBe(true);
    await after.run(async () => {
      expect(currentSignal()).toBe(after.signal);
      await checkpoint();
    });
    expect(after.cancelledCaught).toBe(true);
  }));

  it("reports cancelCalled for an unentered scope whose deadline has passed, and its body is cancelled at once", virtual(async () => {
    const past = new CancelScope({ deadline: now() - 1 });
    expect(past.cancelCalled).toBe(true);
    const soon = new CancelScope({ deadline: now() + 5 });
    expect(soon.cancelCalled).toBe(false);
    expect(soon.signal.aborted).toBe(false);
    await sleep(5);
    expect(soon.cancelCalled).toBe(true);
    expect(soon.signal.aborted).toBe(true);
    let ran = false;
    await soon.run(async () => {
      ran = true;
      await checkpoint();
      ran = false;
    });
    expect(ran).toBe(true);
    expect(soon.cancelledCaught).toBe(true);
  }));
});

describe("AggregateError made of cancellations", () => {
  it("counts Promise.any in a cancelled scope as that scope's cancellation", virtual(async () => {
    const scope = new CancelScope({ deadline: now() + 1 });
    const result = await scope.run(async () => {
      await Promise.any([sleepForever(), sleepForever()]);
      return "unreachable";
    });
    expect(result).toBeUndefined();
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("does not let a task group report it as a failure", virtual(async () => {
    const result = await taskGroup(async (tg) => {
      tg.spawn(() => Promise.any([sleepForever(), sleepForever()]));
      await sleep(1);
      tg.cancelScope.cancel();
      return "body returned";
    });
    expect(result).toBe("body returned");
  }));

  it("treats an AggregateError with a real failure among the cancellations as a failure", virtual(async () => {
    const boom = new Error("boom");
    const scope = new CancelScope();
    scope.cancel();
    const error = await scope.run(async () => {
      throw new AggregateError([new Cancelled(), boom]);
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect(isCancelled(error)).toBe(false);
  }));
});

describe("started() in a cancelled caller", () => {
  it("resolves start() with the recorded value when the task then returns normally", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const caller = new CancelScope({ deadline: now() + 1 });
      await caller.run(async () => {
        const value = await tg.start<string>(async (status) => {
          try {
            await sleepForever();
          } catch {
            status.started("ready late"); // recorded: the caller is cancelled, the task stays
            log.push("returned normally");
          }
        });
        log.push(`start() resolved with ${value}`);
        await checkpoint(); // the caller is still cancelled
        log.push("unreachable");
      });
      log.push(`caller caught: ${caller.cancelledCaught}`);
    });
    expect(log).toEqual(["returned normally", "start() resolved with ready late", "caller caught: true"]);
  }));
});

describe("a promise where a function belongs", () => {
  it("tells the user to pass a function, and keeps the stray promise from killing the process", virtual(async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const work = async (): Promise<void> => {
        await null;
        throw new Error("stray failure");
      };
      await taskGroup(async (tg) => {
        expect(() => tg.spawn(work() as never)).toThrow(/got a Promise .*pass a function that starts it/);
        await expect(tg.start(work() as never)).rejects.toThrow(/got a Promise/);
      });
      await expect(all([work, work()] as never)).rejects.toThrow(/element 1 is a Promise .*pass functions/);
      await expect(race([work(), work()] as never)).rejects.toThrow(/element 0 is a Promise/);
      await expect(new CancelScope().run(work() as never)).rejects.toThrow(/got a Promise/);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  }));
});
