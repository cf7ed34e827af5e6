import { describe, expect, it } from "vitest";
import {
  Cancelled,
  CancelScope,
  TimeoutError,
  checkpoint,
  currentEffectiveDeadline,
  currentSignal,
  moveOnAfter,
  now,
  sleep,
  sleepForever,
  taskGroup,
} from "../src/index.js";
import { virtual } from "./virtual-time.js";

describe("CancelScope", () => {
  it("returns the body's value when not cancelled", virtual(async () => {
    const scope = new CancelScope();
    expect(await scope.run(async (s) => (s === scope ? "same scope" : "other"))).toBe("same scope");
    expect(scope.cancelCalled).toBe(false);
    expect(scope.cancelledCaught).toBe(false);
  }));

  it("cancel() before run() makes the body's first checkpoint throw, and the scope catches it", async () => {
    const log: string[] = [];
    const scope = new CancelScope();
    scope.cancel();
    const result = await scope.run(async () => {
      log.push("body runs until its first checkpoint");
      await checkpoint();
      log.push("unreachable");
      return 1;
    });
    expect(result).toBeUndefined();
    expect(log).toEqual(["body runs until its first checkpoint"]);
    expect(scope.cancelCalled).toBe(true);
    expect(scope.cancelledCaught).toBe(true);
  });

  it("wakes a blocked task at once when cancelled", virtual(async () => {
    const scope = new CancelScope();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await scope.run(async () => {
          try {
            await sleepForever();
          } finally {
            log.push("unwound");
          }
        });
        log.push("after scope");
      });
      await sleep(1);
      scope.cancel();
    });
    expect(log).toEqual(["unwound", "after scope"]);
  }));

  it("is level-triggered: every checkpoint in a cancelled scope throws, not only the first", virtual(async () => {
    const caught: string[] = [];
    const scope = new CancelScope();
    await scope.run(async () => {
      scope.cancel();
      for (let i = 0; i < 3; i++) {
        try {
          await checkpoint();
        } catch (error) {
          caught.push((error as Error).name);
        }
      }
      await sleep(1);
    });
    expect(caught).toEqual(["Cancelled", "Cancelled", "Cancelled"]);
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("gives the Cancelled the reason passed to cancel(), and the signal that Cancelled as its reason", virtual(async () => {
    const scope = new CancelScope();
    let thrown: unknown;
    await scope.run(async () => {
      scope.cancel("client went away");
      try {
        await checkpoint();
      } catch (error) {
        thrown = error;
        throw error;
      }
    });
    expect(thrown).toBeInstanceOf(Cancelled);
    expect((thrown as Cancelled).reason).toBe("client went away");
    expect((thrown as Cancelled).message).toContain("client went away");
    expect(scope.signal.aborted).toBe(true);
    expect(scope.signal.reason).toBe(thrown);
  }));

  it("lets errors that are not cancellations pass through", virtual(async () => {
    const error = new Error("mine");
    const scope = new CancelScope();
    await expect(
      scope.run(async () => {
        scope.cancel();
        throw error;
      }),
    ).rejects.toBe(error);
    expect(scope.cancelledCaught).toBe(false);
  }));

  it("does not catch a Cancelled of a scope further out", virtual(async () => {
    const outer = new CancelScope();
    const inner = new CancelScope();
    await outer.run(async () => {
      await inner.run(async () => {
        outer.cancel();
        await checkpoint();
      });
    });
    expect(inner.cancelCalled).toBe(false);
    expect(inner.cancelledCaught).toBe(false);
    expect(outer.cancelledCaught).toBe(true);
  }));

  it("lets the outermost cancelled scope catch when several are cancelled", virtual(async () => {
    const outer = new CancelScope();
    const inner = new CancelScope();
    let thrown: unknown;
    await outer.run(async () => {
      await inner.run(async () => {
        inner.cancel("inner");
        outer.cancel("outer");
        try {
          await checkpoint();
        } catch (error) {
          thrown = error;
          throw error;
        }
      });
    });
    expect(inner.cancelledCaught).toBe(false);
    expect(outer.cancelledCaught).toBe(true);
    // The Cancelled a task sees is the one of the scope that will catch it.
    expect((thrown as Cancelled).reason).toBe("outer");
  }));

  it("keeps outer cancellation out behind a shield", virtual(async () => {
    const outer = new CancelScope();
    const log: string[] = [];
    await outer.run(async () => {
      outer.cancel();
      await new CancelScope({ shield: true }).run(async () => {
        await sleep(1);
        await checkpoint();
        log.push("shielded work finished");
      });
      await checkpoint();
      log.push("unreachable");
    });
    expect(log).toEqual(["shielded work finished"]);
    expect(outer.cancelledCaught).toBe(true);
  }));

  it("keeps outer deadlines out behind a shield", virtual(async () => {
    const log: string[] = [];
    await moveOnAfter(1, async () => {
      await new CancelScope({ shield: true }).run(async () => {
        expect(currentEffectiveDeadline()).toBe(Infinity);
        await sleep(3);
        log.push("outlived the outer deadline");
      });
      await checkpoint();
      log.push("unreachable");
    });
    expect(log).toEqual(["outlived the outer deadline"]);
  }));

  it("applies outer cancellation at once when a shield is lowered", virtual(async () => {
    const outer = new CancelScope();
    const shielded = new CancelScope({ shield: true });
    const log: string[] = [];
    await outer.run(async () => {
      await shielded.run(async () => {
        outer.cancel();
        await checkpoint();
        log.push("shielded");
        shielded.shield = false;
        try {
          await checkpoint();
        } catch (error) {
          log.push("cancelled once the shield was lowered");
          throw error;
        }
      });
    });
    expect(log).toEqual(["shielded", "cancelled once the shield was lowered"]);
    expect(shielded.cancelledCaught).toBe(false);
    expect(outer.cancelledCaught).toBe(true);
  }));

  it("stops delivering outer cancellation when a shield is raised", virtual(async () => {
    const outer = new CancelScope();
    const inner = new CancelScope();
    const log: string[] = [];
    await outer.run(async () => {
      await inner.run(async () => {
        outer.cancel();
        await expect(checkpoint()).rejects.toBeInstanceOf(Cancelled);
        inner.shield = true;
        await checkpoint();
        log.push("checkpoint passes behind the raised shield");
      });
      await checkpoint();
    });
    expect(log).toEqual(["checkpoint passes behind the raised shield"]);
  }));

  it("cancels every scope inside it, including groups and their tasks", virtual(async () => {
    const scope = new CancelScope();
    const log: string[] = [];
    await scope.run(async () => {
      await taskGroup(async (tg) => {
        for (const name of ["a", "b"]) {
          tg.spawn(async () => {
            await new CancelScope().run(async () => {
              try {
                await sleepForever();
              } finally {
                log.push(name);
              }
            });
          });
        }
        await sleep(1);
        scope.cancel();
      });
    });
    expect(log.sort()).toEqual(["a", "b"]);
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("can be run only once", virtual(async () => {
    const scope = new CancelScope();
    await scope.run(async () => {});
    await expect(scope.run(async () => {})).rejects.toThrow(/already been run/);
  }));

  it("ignores cancel() after it has exited", virtual(async () => {
    const scope = new CancelScope();
    await scope.run(async () => {});
    scope.cancel();
    expect(scope.cancelCalled).toBe(true);
    expect(scope.cancelledCaught).toBe(false);
    await checkpoint();
  }));

  describe("signal", () => {
    it("aborts once, when the scope is cancelled, and never un-aborts", virtual(async () => {
      const scope = new CancelScope();
      const events: unknown[] = [];
      await scope.run(async () => {
        const signal = scope.signal;
        expect(scope.signal).toBe(signal);
        signal.addEventListener("abort", () => events.push(signal.reason));
        expect(signal.aborted).toBe(false);
        scope.cancel();
        scope.cancel();
        scope.shield = true;
        expect(signal.aborted).toBe(true);
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toBeInstanceOf(Cancelled);
    }));

    it("aborts when an enclosing scope is cancelled, but not through a shield", virtual(async () => {
      const outer = new CancelScope();
      const inner = new CancelScope();
      const shielded = new CancelScope({ shield: true });
      await outer.run(async () => {
        await inner.run(async () => {
          await shielded.run(async () => {
            outer.cancel("stop");
            expect(inner.signal.aborted).toBe(true);
            expect((inner.signal.reason as Cancelled).reason).toBe("stop");
            expect(shielded.signal.aborted).toBe(false);
            expect(currentSignal()).toBe(shielded.signal);
          });
        });
      });
    }));

    it("is already aborted when asked for in a cancelled scope", virtual(async () => {
      const scope = new CancelScope();
      scope.cancel("early");
      await scope.run(async () => {
        expect(currentSignal().aborted).toBe(true);
        expect((currentSignal().reason as Cancelled).reason).toBe("early");
      });
    }));
  });

  describe("deadline", () => {
    it("cancels the scope when it passes, with a TimeoutError as the reason", virtual(async () => {
      const scope = new CancelScope({ deadline: now() + 1 });
      let thrown: unknown;
      await scope.run(async () => {
        try {
          await sleepForever();
        } catch (error) {
          thrown = error;
          throw error;
        }
      });
      expect(scope.cancelCalled).toBe(true);
      expect(scope.cancelledCaught).toBe(true);
      expect((thrown as Cancelled).reason).toBeInstanceOf(TimeoutError);
    }));

    it("re-arms when moved later while running", virtual(async () => {
      const scope = new CancelScope({ deadline: now() + 1 });
      const log: string[] = [];
      await scope.run(async () => {
        scope.deadline = now() + 10_000;
        await sleep(3);
        log.push("not cancelled at the old deadline");
        scope.deadline = Infinity;
        await sleep(1);
        log.push("no deadline");
      });
      expect(log).toEqual(["not cancelled at the old deadline", "no deadline"]);
      expect(scope.cancelCalled).toBe(false);
    }));

    it("re-arms when moved earlier while running", virtual(async () => {
      const scope = new CancelScope({ deadline: now() + 10_000 });
      const started = now();
      await scope.run(async () => {
        scope.deadline = now() + 2;
        await sleep(60_000);
      });
      expect(scope.cancelledCaught).toBe(true);
      expect(now() - started).toBe(2);
    }));

    it("cancels at once when set in the past", virtual(async () => {
      const scope = new CancelScope();
      await scope.run(async () => {
        scope.deadline = now() - 1;
        expect(scope.cancelCalled).toBe(true);
        await checkpoint();
      });
      expect(scope.cancelledCaught).toBe(true);
      const entered = new CancelScope({ deadline: -Infinity });
      await entered.run(() => checkpoint());
      expect(entered.cancelledCaught).toBe(true);
    }));

    it("is reported by currentEffectiveDeadline up to the nearest shield, and as -Infinity once cancelled", virtual(async () => {
      expect(currentEffectiveDeadline()).toBe(Infinity);
      const t = now();
      await new CancelScope({ deadline: t + 5000 }).run(async () => {
        expect(currentEffectiveDeadline()).toBe(t + 5000);
        await new CancelScope({ deadline: t + 9000 }).run(async () => {
          expect(currentEffectiveDeadline()).toBe(t + 5000);
          await new CancelScope({ deadline: t + 7000, shield: true }).run(async () => {
            expect(currentEffectiveDeadline()).toBe(t + 7000);
          });
        });
        const cancelled = new CancelScope();
        await cancelled.run(async () => {
          cancelled.cancel();
          expect(currentEffectiveDeadline()).toBe(-Infinity);
        });
      });
    }));
  });

  describe("bad input", () => {
    it("rejects bad options with TypeError and RangeError", () => {
      expect(() => new CancelScope({ deadline: Number.NaN })).toThrow(RangeError);
      expect(() => new CancelScope({ deadline: "soon" as never })).toThrow(/deadline must be a number/);
      expect(() => new CancelScope({ shield: 1 as never })).toThrow(/shield must be a boolean; got 1/);
      expect(() => new CancelScope(7 as never)).toThrow(TypeError);
      const scope = new CancelScope();
      expect(() => (scope.deadline = Number.NaN)).toThrow(/must not be NaN/);
      expect(() => (scope.shield = "yes" as never)).toThrow(TypeError);
    });

    it("rejects a body that is not a function", virtual(async () => {
      await expect(new CancelScope().run(undefined as never)).rejects.toThrow(/body must be a function; got undefined/);
    }));
  });
});
