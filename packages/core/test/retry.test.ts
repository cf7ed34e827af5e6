import { describe, expect, it, vi } from "vitest";
import { CancelScope, Cancelled, TimeoutError, failAfter, moveOnAfter, now, retry, sleep, taskGroup } from "../src/index.js";
import { virtual, waitAllTasksBlocked } from "./virtual-time.js";

/** A function that fails `failures` times, recording when each attempt ran. */
function flaky(failures: number, error: (attempt: number) => unknown = (attempt) => new Error(`failure ${attempt}`)) {
  const times: number[] = [];
  const attempts: number[] = [];
  const fn = async (attempt: number): Promise<string> => {
    times.push(now());
    attempts.push(attempt);
    if (attempts.length <= failures) throw error(attempt);
    return "ok";
  };
  return { fn, times, attempts };
}

describe("retry", () => {
  it("returns what fn returns, at once when it succeeds the first time", virtual(async () => {
    const { fn, times } = flaky(0);
    expect(await retry(fn)).toBe("ok");
    expect(times).toEqual([0]);
  }));

  it("retries with exponential delays on the runtime clock, passing the attempt number", virtual(async () => {
    const { fn, times, attempts } = flaky(3);
    expect(await retry(fn, { attempts: 4, delay: 100, factor: 3 })).toBe("ok");
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(times).toEqual([0, 100, 400, 1300]);
  }));

  it("caps each delay at maxDelay", virtual(async () => {
    const { fn, times } = flaky(4);
    await retry(fn, { attempts: 5, delay: 100, maxDelay: 250 });
    expect(times).toEqual([0, 100, 300, 550, 800]);
  }));

  it("with the defaults, tries 3 times, waiting 100 then 200 ms, and throws the last failure as it is", virtual(async () => {
    const last = new TypeError("third");
    const { fn, times } = flaky(3, (attempt) => (attempt === 3 ? last : new Error(`failure ${attempt}`)));
    await expect(retry(fn)).rejects.toBe(last);
    expect(times).toEqual([0, 100, 300]);
  }));

  it("with jitter, waits a random time between 0 and the computed delay", virtual(async () => {
    const random = vi.spyOn(Math, "random");
    random.mockReturnValueOnce(0.5).mockReturnValueOnce(0.25);
    try {
      const { fn, times } = flaky(2);
      await retry(fn, { delay: 100, jitter: true });
      expect(times).toEqual([0, 50, 100]); // 0.5 × 100, then 0.25 × 200
    } finally {
      random.mockRestore();
    }
  }));

  it("stops when retryIf says no, throwing that failure; retryIf gets the error and the attempt", virtual(async () => {
    const permanent = new Error("404");
    const { fn, attempts } = flaky(5, (attempt) => (attempt === 2 ? permanent : new Error("503")));
    const asked: [string, number][] = [];
    await expect(
      retry(fn, {
        attempts: 10,
        retryIf: (error, attempt) => {
          asked.push([(error as Error).message, attempt]);
          return (error as Error).message === "503";
        },
      }),
    ).rejects.toBe(permanent);
    expect(attempts).toEqual([1, 2]);
    expect(asked).toEqual([["503", 1], ["404", 2]]);
  }));

  it("tells onRetry each failure, its attempt and the wait before the next", virtual(async () => {
    const { fn } = flaky(2);
    const told: [string, number, number][] = [];
    await retry(fn, { delay: 10, onRetry: (error, attempt, delay) => told.push([(error as Error).message, attempt, delay]) });
    expect(told).toEqual([["failure 1", 1, 10], ["failure 2", 2, 20]]);
  }));

  it("throws what retryIf or onRetry throws", virtual(async () => {
    const { fn } = flaky(1);
    await expect(retry(fn, { retryIf: () => { throw new Error("retryIf broke"); } })).rejects.toThrow("retryIf broke");
    await expect(retry(flaky(1).fn, { onRetry: () => { throw new Error("onRetry broke"); } })).rejects.toThrow("onRetry broke");
  }));

  it("never retries a Cancelled, nor passes it to retryIf", virtual(async () => {
    let calls = 0;
    const retryIf = vi.fn(() => true);
    const scope = new CancelScope();
    await scope.run(() =>
      retry(async () => {
        calls++;
        scope.cancel();
        await sleep(1); // throws Cancelled
      }, { attempts: 5, retryIf }),
    );
    expect(calls).toBe(1);
    expect(retryIf).not.toHaveBeenCalled();
    expect(scope.cancelledCaught).toBe(true);
  }));

  it("under a deadline, gives up mid-sleep when the deadline passes", virtual(async () => {
    const { fn, times } = flaky(Infinity);
    await expect(failAfter(5000, () => retry(fn, { attempts: Infinity, delay: 1000, factor: 2 }))).rejects.toBeInstanceOf(TimeoutError);
    expect(times).toEqual([0, 1000, 3000]); // the next attempt would have been at 7000
    expect(now()).toBe(5000);
  }));

  it("retries attempts that time out when the timeout is inside", virtual(async () => {
    let attempt = 0;
    const result = await retry(() => failAfter(100, async () => {
      attempt++;
      await sleep(attempt < 3 ? 1000 : 10);
      return attempt;
    }), { delay: 50 });
    expect(result).toBe(3);
    expect(now()).toBe(100 + 50 + 100 + 100 + 10);
  }));

  it("cancelled from outside while it sleeps between attempts, stops there", virtual(async () => {
    const { fn, attempts } = flaky(Infinity);
    await taskGroup(async (tg) => {
      const scope = new CancelScope();
      tg.spawn(async () => {
        await expect(scope.run(() => retry(fn, { attempts: 10, delay: 1000 }))).resolves.toBeUndefined();
      });
      await waitAllTasksBlocked();
      expect(attempts).toEqual([1]);
      scope.cancel();
    });
    expect(attempts).toEqual([1]);
    expect(now()).toBe(0);
  }));

  it("treats an attempt whose inner moveOnAfter gave up as a success: moveOnAfter catches its own cancellation", virtual(async () => {
    const result = await retry(() => moveOnAfter(10, () => sleep(100)));
    expect(result).toBeUndefined();
    expect(now()).toBe(10);
  }));

  it("checks its arguments before the first attempt", virtual(async () => {
    const fn = vi.fn(async () => 1);
    await expect(retry("fn" as unknown as typeof fn)).rejects.toThrow(new TypeError('retry() fn must be a function; got "fn"'));
    await expect(retry(fn, { attempts: 0 })).rejects.toThrow(new RangeError("retry() attempts must be a positive integer or Infinity; got 0"));
    await expect(retry(fn, { attempts: 2.5 })).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, { attempts: "3" as unknown as number })).rejects.toBeInstanceOf(TypeError);
    await expect(retry(fn, { delay: -1 })).rejects.toThrow(new RangeError("retry() delay must be a non-negative number of milliseconds; got -1"));
    await expect(retry(fn, { factor: 0.5 })).rejects.toThrow(new RangeError("retry() factor must be a finite number no less than 1; got 0.5"));
    await expect(retry(fn, { factor: Infinity })).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, { maxDelay: NaN })).rejects.toBeInstanceOf(RangeError);
    await expect(retry(fn, { jitter: 1 as unknown as boolean })).rejects.toThrow(new TypeError("retry() jitter must be a boolean; got 1"));
    await expect(retry(fn, { retryIf: true as unknown as () => boolean })).rejects.toBeInstanceOf(TypeError);
    await expect(retry(fn, { onRetry: {} as unknown as () => void })).rejects.toBeInstanceOf(TypeError);
    await expect(retry(fn, null as unknown as object)).rejects.toThrow(/retry\(\) options must be an object/);
    expect(fn).not.toHaveBeenCalled();
  }));

  it("a Cancelled thrown inside fn for the scope around retry propagates as it is", virtual(async () => {
    const scope = new CancelScope();
    let seen: unknown;
    await scope.run(async () => {
      try {
        await retry(async () => {
          scope.cancel("stop");
          await sleep(1);
        });
      } catch (error) {
        seen = error;
        throw error;
      }
    });
    expect(seen).toBeInstanceOf(Cancelled);
  }));
});
