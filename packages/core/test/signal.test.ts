import { getEventListeners } from "node:events";
import { setTimeout as hostDelay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Cancelled,
  CancelScope,
  abortable,
  currentSignal,
  isCancelled,
  moveOnAfter,
  sleep,
  taskGroup,
} from "../src/index.js";
import { virtual } from "./virtual-time.js";

describe("currentSignal", () => {
  it("aborts with a Cancelled reason when the current scope is cancelled", virtual(async () => {
    const scope = new CancelScope();
    let signal: AbortSignal | undefined;
    await scope.run(async () => {
      signal = currentSignal();
      expect(signal.aborted).toBe(false);
      scope.cancel("done");
    });
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBeInstanceOf(Cancelled);
    expect((signal!.reason as Cancelled).reason).toBe("done");
  }));

  // Real time: virtual time would stand still while the foreign timer is pending.
  it("makes a foreign API given the signal unwind as that scope's cancellation", async () => {
    const log: string[] = [];
    let signal: AbortSignal | undefined;
    const result = await moveOnAfter(1, async (scope) => {
      signal = currentSignal();
      try {
        // Node's timer rejects with an AbortError whose cause is the signal's reason.
        await hostDelay(60_000, undefined, { signal });
      } catch (error) {
        log.push(`${(error as Error).name}, isCancelled=${isCancelled(error)}, cancelCalled=${scope.cancelCalled}`);
        throw error;
      }
      return "unreachable";
    });
    expect(result).toBeUndefined();
    expect(log).toEqual(["AbortError, isCancelled=true, cancelCalled=true"]);
    // The foreign API removed its listener: nothing is left on the signal.
    expect(getEventListeners(signal!, "abort")).toHaveLength(0);
  });

  it("treats an error that is the signal's reason itself (as fetch throws) as the cancellation", virtual(async () => {
    const scope = new CancelScope();
    const result = await scope.run(async () => {
      const signal = currentSignal();
      const foreign = new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
      scope.cancel();
      await foreign;
    });
    expect(result).toBeUndefined();
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("treats an AbortError without a cause as a cancellation only inside a cancelled scope", virtual(async () => {
    const bare = () => Object.assign(new Error("aborted"), { name: "AbortError" });
    const cancelled = new CancelScope();
    await cancelled.run(async () => {
      cancelled.cancel();
      expect(isCancelled(bare())).toBe(true);
      throw bare();
    });
    expect(cancelled.cancelledCaught).toBe(true);
    expect(isCancelled(bare())).toBe(false);
    const error = bare();
    await expect(taskGroup(async () => Promise.reject(error))).rejects.toBe(error);
  }));

  // Real time: virtual time would stand still while the foreign timer is pending.
  it("collapses a child's foreign AbortError into the group's cancellation", async () => {
    const result = await taskGroup(async (tg) => {
      tg.spawn(() => hostDelay(60_000, undefined, { signal: currentSignal() }));
      await sleep(1);
      tg.cancelScope.cancel();
      return "body value";
    });
    expect(result).toBe("body value");
  });
});

describe("abortable", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", onUnhandled);
  });
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
  });

  it("resolves with the promise's value", virtual(async () => {
    expect(await abortable(Promise.resolve(7))).toBe(7);
    const thenable = { then: (resolve: (v: number) => void) => resolve(8) } as unknown as PromiseLike<number>;
    expect(await abortable(thenable)).toBe(8);
  }));

  it("rejects with the promise's error", virtual(async () => {
    const error = new Error("io failed");
    await expect(abortable(Promise.reject(error))).rejects.toBe(error);
  }));

  it("stops waiting when the scope is cancelled, and the promise's later failure is not an unhandled rejection", virtual(async () => {
    let rejectLater: ((e: unknown) => void) | undefined;
    const foreign = new Promise((_, reject) => (rejectLater = reject));
    const result = await moveOnAfter(1, () => abortable(foreign));
    expect(result).toBeUndefined();
    rejectLater!(new Error("late failure"));
    await hostDelay(2);
    expect(unhandled).toEqual([]);
  }));

  it("throws at once in a cancelled scope and handles the promise's rejection", virtual(async () => {
    const scope = new CancelScope();
    scope.cancel();
    await scope.run(() => abortable(Promise.reject(new Error("ignored"))));
    expect(scope.cancelledCaught).toBe(true);
    await hostDelay(2);
    expect(unhandled).toEqual([]);
  }));

  it("leaves nothing on a long-lived promise for each call that was cancelled", virtual(async () => {
    const forever = new Promise<never>(() => {}); // a shutdown signal, a connection's close…
    const refs: Array<WeakRef<object>> = [];
    let caught = 0;
    await taskGroup(async (tg) => {
      for (let i = 0; i < 200; i++) {
        // Each call in a task of its own: the task's record (and the function it ran) is what
        // a leftover reaction on `forever` would keep alive.
        const fn = async (): Promise<void> => {
          const scope = new CancelScope();
          await scope.run(async () => {
            const waiting = abortable(forever);
            scope.cancel();
            await waiting;
          });
          if (scope.cancelledCaught) caught++;
        };
        refs.push(new WeakRef(fn));
        tg.spawn(fn);
      }
    });
    expect(caught).toBe(200);
    for (let i = 0; i < 3; i++) {
      globalThis.gc!();
      await hostDelay(1);
    }
    // Each call's promise (and the task state it holds) is garbage once the call is cancelled.
    // A reaction per call on `forever` would keep every one of them alive.
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(5);
  }));

  it("wakes every call waiting on the same promise, in order, and only those not cancelled", virtual(async () => {
    let resolve!: (value: string) => void;
    const shared = new Promise<string>((r) => (resolve = r));
    const log: string[] = [];
    await taskGroup(async (tg) => {
      for (const name of ["a", "b", "c"]) {
        tg.spawn(async () => {
          const scope = new CancelScope();
          if (name === "b") scope.cancel();
          const value = await scope.run(() => abortable(shared));
          log.push(`${name}: ${value ?? "cancelled"}`);
        });
      }
      await sleep(1);
      resolve("ready");
    });
    expect(log).toEqual(["b: cancelled", "a: ready", "c: ready"]);
    expect(await abortable(shared)).toBe("ready"); // and later calls on the settled promise
  }));

  it("rejects a value that is not a promise with a TypeError", virtual(async () => {
    await expect(abortable(42 as never)).rejects.toThrow(/abortable\(\) needs a promise; got 42/);
  }));
});
