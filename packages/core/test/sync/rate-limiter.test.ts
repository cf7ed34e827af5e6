import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CancelScope, Cancelled, RateLimiter, WouldBlock, moveOnAfter, now, run, sleep, sleepUntil, taskGroup } from "../../src/index.js";
import { formatTaskTree } from "../../src/lowlevel.js";
import { assertCheckpoints } from "../../../testing/src/index.js";
import { fcOptions } from "../fast-check.js";
import { MockClock, virtual } from "../virtual-time.js";

/** Spawns one task per request, each asking at once and in this order; returns when all have ended, with when each got its tokens. */
async function grantTimes(limiter: RateLimiter, requests: Array<[name: string, tokens: number]>): Promise<Array<[string, number]>> {
  const granted: Array<[string, number]> = [];
  await taskGroup(async (tg) => {
    for (const [name, tokens] of requests) {
      tg.spawn(async () => {
        await limiter.acquire(tokens);
        granted.push([name, now()]);
      }, { name });
    }
  });
  return granted;
}

describe("RateLimiter", () => {
  it("serves a full bucket's burst at once, then one token every interval / rate", virtual(async () => {
    const limiter = new RateLimiter(2, { burst: 3 }); // a token every 500 ms
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      await limiter.acquire();
      times.push(now());
    }
    expect(times).toEqual([0, 0, 0, 500, 1000, 1500]);
  }));

  it("refills continuously, a fraction at a time, up to burst and no further", virtual(async () => {
    const limiter = new RateLimiter(4, { interval: 100, burst: 4 }); // a token every 25 ms
    await limiter.acquire(4);
    expect(limiter.statistics().tokens).toBe(0);
    await sleep(10);
    expect(limiter.statistics().tokens).toBeCloseTo(0.4, 12);
    await sleep(40);
    expect(limiter.statistics().tokens).toBe(2);
    await sleep(10_000);
    expect(limiter.statistics().tokens).toBe(4);
    await limiter.acquire(4); // a long quiet spell still gives only one burst
    expect(now()).toBe(10_050);
    await limiter.acquire();
    expect(now()).toBe(10_075);
  }));

  it("acquire(n) waits until n tokens have accumulated", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 5 }); // a token every 100 ms
    await limiter.acquire(5);
    await limiter.acquire(3);
    expect(now()).toBe(300);
    await sleep(50);
    await limiter.acquire(2); // 0.5 there already: 1.5 more to go
    expect(now()).toBe(500);
  }));

  it("serves waiting tasks in the order they asked: a big request at the front holds back the small ones behind it", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 5 }); // a token every 100 ms
    limiter.acquireNowait(5);
    const granted = await grantTimes(limiter, [["big", 4], ["small", 1], ["medium", 2]]);
    expect(granted).toEqual([["big", 400], ["small", 500], ["medium", 700]]);
  }));

  it("does not let a newcomer barge in: it queues behind the waiting tasks even when the bucket holds enough for it", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 5 });
    limiter.acquireNowait(3); // 2 left
    const granted: Array<[string, number]> = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await limiter.acquire(4); // due at 200
        granted.push(["first", now()]);
      });
      await sleep(100); // the bucket holds 3 now: enough for one, but "first" asked earlier
      expect(limiter.statistics().tokens).toBe(3);
      expect(() => limiter.acquireNowait()).toThrow("RateLimiter.acquireNowait() would block: 1 task waits ahead of it");
      await limiter.acquire();
      granted.push(["newcomer", now()]);
    });
    expect(granted).toEqual([["first", 200], ["newcomer", 300]]);
  }));

  it("a task cancelled while it waits at the front takes no tokens, and the next task is served at once if its tokens are there", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 3 }); // a token every 100 ms
    limiter.acquireNowait(3);
    const scope = new CancelScope();
    const granted: Array<[string, number]> = [];
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => limiter.acquire(3))); // due at 300
      tg.spawn(async () => {
        await limiter.acquire(1);
        granted.push(["second", now()]);
      });
      await sleep(150);
      expect(limiter.statistics().tasksWaiting).toBe(2);
      scope.cancel();
      expect(limiter.statistics().tasksWaiting).toBe(1); // it left at once; "second" is woken by the alarm
    });
    expect(scope.cancelledCaught).toBe(true);
    expect(granted).toEqual([["second", 150]]);
    expect(limiter.statistics().tokens).toBe(0.5); // 1.5 accumulated, 1 taken by "second"
    await limiter.acquire();
    expect(now()).toBe(200);
  }));

  it("cancelling a scope with several tasks waiting in it gives none of them tokens, not even the one behind the front whose tokens are there", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 3 });
    limiter.acquireNowait(3);
    const scope = new CancelScope();
    const granted: string[] = [];
    await scope.run(() => taskGroup(async (tg) => {
      tg.spawn(async () => {
        await limiter.acquire(3);
        granted.push("first");
      });
      tg.spawn(async () => {
        await limiter.acquire(1);
        granted.push("second");
      });
      await sleep(150);
      scope.cancel();
    }));
    expect(granted).toEqual([]);
    expect(limiter.statistics()).toMatchObject({ tokens: 1.5, tasksWaiting: 0 });
  }));

  it("a task whose deadline passes while it waits at the front takes no tokens, and the next is served when its own tokens are there", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 3 });
    limiter.acquireNowait(3);
    const log: Array<[string, number]> = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await moveOnAfter(150, () => limiter.acquire(3)); // due at 300: gives up at 150
        log.push(["gave up", now()]);
      });
      tg.spawn(async () => {
        await limiter.acquire(2); // 1.5 there at 150: due at 200
        log.push(["second", now()]);
      });
    });
    expect(log).toEqual([["gave up", 150], ["second", 200]]);
  }));

  it("a task cancelled behind the front takes no tokens, and those behind it are served as if it had never asked", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 3 });
    limiter.acquireNowait(3);
    const log: Array<[string, number]> = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await limiter.acquire(3);
        log.push(["first", now()]);
      });
      tg.spawn(() => moveOnAfter(50, () => limiter.acquire(2)));
      tg.spawn(async () => {
        await limiter.acquire(1);
        log.push(["third", now()]);
      });
    });
    expect(log).toEqual([["first", 300], ["third", 400]]);
  }));

  it("acquire() in a cancelled scope throws Cancelled and takes nothing, even with tokens in the bucket", virtual(async () => {
    const limiter = new RateLimiter(5);
    const scope = new CancelScope();
    scope.cancel();
    let thrown: unknown;
    await scope.run(async () => {
      try {
        await limiter.acquire();
      } catch (err) {
        thrown = err;
        throw err;
      }
    });
    expect(thrown).toBeInstanceOf(Cancelled);
    expect(limiter.statistics().tokens).toBe(5);
  }));

  it("acquire() is a checkpoint also when it takes tokens without waiting", virtual(async () => {
    const limiter = new RateLimiter(5);
    await assertCheckpoints(() => limiter.acquire());
    expect(limiter.statistics().tokens).toBe(4);
  }));

  it("acquireNowait() takes tokens that are there and throws WouldBlock, taking nothing, when they are not", virtual(async () => {
    const limiter = new RateLimiter(4, { burst: 4 }); // a token every 250 ms
    limiter.acquireNowait(3);
    expect(() => limiter.acquireNowait(2)).toThrow(WouldBlock);
    expect(() => limiter.acquireNowait(2)).toThrow("RateLimiter.acquireNowait() would block: it asked for 2 tokens, and the bucket holds 1");
    expect(limiter.statistics().tokens).toBe(1);
    await sleep(100);
    expect(() => limiter.acquireNowait(2)).toThrow("the bucket holds 1.4");
    limiter.acquireNowait();
    expect(limiter.statistics().tokens).toBeCloseTo(0.4, 12);
  }));

  it("statistics() is a frozen record of the settings, the tokens now and the tasks waiting", virtual(async () => {
    const limiter = new RateLimiter(3, { interval: 60_000 });
    const statistics = limiter.statistics();
    expect(statistics).toEqual({ tokens: 3, rate: 3, interval: 60_000, burst: 3, tasksWaiting: 0 });
    expect(Object.isFrozen(statistics)).toBe(true);
    await taskGroup(async (tg) => {
      tg.spawn(() => limiter.acquire(3));
      tg.spawn(() => limiter.acquire(2));
      await sleep(30_000);
      expect(limiter.statistics()).toEqual({ tokens: 1.5, rate: 3, interval: 60_000, burst: 3, tasksWaiting: 1 });
    });
    expect(now()).toBe(40_000);
  }));

  it("burst defaults to rate, and to 1 for a rate below one token per interval", () => {
    expect(new RateLimiter(2.5).statistics().burst).toBe(2.5);
    expect(new RateLimiter(0.5).statistics().burst).toBe(1);
    expect(new RateLimiter(0.5, { burst: 3 }).statistics()).toMatchObject({ rate: 0.5, interval: 1000, burst: 3, tokens: 3 });
  });

  it("a fractional burst holds as many whole tokens as fit in it", virtual(async () => {
    const limiter = new RateLimiter(2.5); // burst 2.5, a token every 400 ms
    await limiter.acquire(2);
    await limiter.acquire(1); // 0.5 there: 0.5 more to go
    expect(now()).toBe(200);
    await expect(limiter.acquire(3)).rejects.toThrow("RateLimiter.acquire(3) asks for more tokens than the burst of 2.5");
  }));

  it.each([
    [["1"], TypeError, 'RateLimiter rate must be a number; got "1"'],
    [[0], RangeError, "RateLimiter rate must be a positive finite number (tokens per interval); got 0"],
    [[-2], RangeError, "got -2"],
    [[Number.NaN], RangeError, "got NaN"],
    [[Infinity], RangeError, "got Infinity"],
    [[1, 5], TypeError, "RateLimiter options must be an object if given; got 5"],
    [[1, { name: 7 }], TypeError, "RateLimiter name must be a string if given; got 7"],
    [[1, { interval: "1s" }], TypeError, 'RateLimiter interval must be a number of milliseconds; got "1s"'],
    [[1, { interval: 0 }], RangeError, "RateLimiter interval must be a positive finite number of milliseconds; got 0"],
    [[1, { interval: Infinity }], RangeError, "got Infinity"],
    [[1, { interval: null }], TypeError, "RateLimiter interval must be a number of milliseconds; got null"],
    [[1, { burst: null }], TypeError, "RateLimiter burst must be a number; got null"],
    [[1, { burst: 0.5 }], RangeError, "RateLimiter burst must be a finite number of at least 1 (the most tokens the bucket holds); got 0.5"],
    [[1, { burst: Infinity }], RangeError, "got Infinity"],
    [[Number.MIN_VALUE, { interval: 1e300 }], RangeError, "RateLimiter interval / rate must give a usable time per token; got 1e+300 / 5e-324"],
  ])("new RateLimiter(...%o) throws a %o", (args, ErrorClass, message) => {
    const make = () => new RateLimiter(...(args as [number, object]));
    expect(make).toThrow(ErrorClass);
    expect(make).toThrow(message);
  });

  it.each([
    ["2", TypeError, 'RateLimiter.acquire() tokens must be a number; got "2"'],
    [0, RangeError, "RateLimiter.acquire() tokens must be a positive integer; got 0"],
    [1.5, RangeError, "RateLimiter.acquire() tokens must be a positive integer; got 1.5"],
    [Number.NaN, RangeError, "got NaN"],
    [4, RangeError, "RateLimiter.acquire(4) asks for more tokens than the burst of 3: the bucket never holds that many, so it could never be served"],
  ])("acquire(%o) throws a %o and takes nothing", async (tokens, ErrorClass, message) => {
    const limiter = new RateLimiter(3);
    await expect(limiter.acquire(tokens as number)).rejects.toThrow(ErrorClass);
    await expect(limiter.acquire(tokens as number)).rejects.toThrow(message);
    expect(() => limiter.acquireNowait(tokens as number)).toThrow(message.replace("acquire(", "acquireNowait("));
    expect(limiter.statistics().tokens).toBe(3);
  });

  it("shows its waiting tasks in the task tree, the first one with the time its tokens will be there", virtual(async () => {
    const limiter = new RateLimiter(10, { burst: 3, name: "api" });
    limiter.acquireNowait(3);
    await taskGroup(async (tg) => {
      tg.spawn(() => limiter.acquire(3), { name: "first" });
      tg.spawn(() => limiter.acquire(1), { name: "second" });
      await sleep(50);
      const text = formatTaskTree();
      expect(text).toMatch(/task "first" — blocked: acquire on RateLimiter "api" until 300 ms \(in 250 ms\)$/m);
      expect(text).toMatch(/task "second" — blocked: acquire on RateLimiter "api"$/m);
    });
  }));

  it("works outside any run(), on the system clock", async () => {
    const limiter = new RateLimiter(1, { interval: 4, burst: 1 }); // a few real ms: there is no other clock here
    const start = performance.now(); // what the system clock reads
    await limiter.acquire();
    await limiter.acquire();
    expect(performance.now() - start).toBeGreaterThanOrEqual(3.99);
    expect(() => limiter.acquireNowait()).toThrow(WouldBlock);
  });
});

// ------------------------------------------------------------ the property

interface Request {
  /** When it asks (ms on the virtual clock). */
  at: number;
  tokens: number;
  /** If set, it gives up (moveOnAfter) this long after asking. */
  patience: number | null;
}

/**
 * When each request is served (`null`: it gave up first), worked out directly:
 * requests are served in the order they asked, each as soon as everyone before
 * it has left the queue and the bucket holds its tokens. A bucket of `burst`
 * tokens gaining one every `spacing` ms holds `burst - (fullAt - t) / spacing`
 * tokens at time t, where `fullAt` is when it will be full.
 */
function model(requests: readonly Request[], burst: number, spacing: number): Array<number | null> {
  const order = requests.map((_, i) => i).sort((a, b) => requests[a]!.at - requests[b]!.at || a - b);
  const granted: Array<number | null> = requests.map(() => null);
  let fullAt = -Infinity;
  let queueFreeAt = -Infinity; // when every request before this one has left the queue
  for (const i of order) {
    const { at, tokens, patience } = requests[i]!;
    const head = Math.max(at, queueFreeAt);
    const grant = Math.max(head, fullAt + (tokens - burst) * spacing);
    if (patience !== null && at + patience < grant) {
      queueFreeAt = Math.max(queueFreeAt, at + patience);
      continue;
    }
    granted[i] = grant;
    fullAt = Math.max(fullAt, grant) + tokens * spacing;
    queueFreeAt = Math.max(queueFreeAt, grant);
  }
  return granted;
}

describe("RateLimiter properties", () => {
  // Time per token is a whole number of ms and patience ends at distinct fractions of a ms,
  // so no one gives up at the very moment its tokens arrive (which of the two wins is a tie).
  const scenario = fc.record({
    rate: fc.constantFrom(1, 2, 4, 5, 10),
    interval: fc.constantFrom(100, 1000),
    burst: fc.integer({ min: 1, max: 5 }),
    requests: fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 3000 }),
        tokens: fc.integer({ min: 1, max: 5 }),
        patience: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null, freq: 3 }),
      }),
      { minLength: 1, maxLength: 20 },
    ),
  });

  it("grants in the order of asking, each at the earliest time a token bucket allows, and never more than burst + rate * (t1 - t0) / interval tokens in [t0, t1]", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ rate, interval, burst, requests: raw }) => {
        const requests: Request[] = raw.map((r, i) => ({
          at: r.at,
          tokens: Math.min(r.tokens, burst),
          patience: r.patience === null ? null : r.patience + (i + 1) / 64,
        }));
        const granted: Array<number | null> = requests.map(() => null);
        await run(async () => {
          const limiter = new RateLimiter(rate, { interval, burst });
          await taskGroup(async (tg) => {
            requests.forEach(({ at, tokens, patience }, i) => {
              tg.spawn(async () => {
                await sleepUntil(at);
                const acquire = async () => {
                  await limiter.acquire(tokens);
                  granted[i] = now();
                };
                await (patience === null ? acquire() : moveOnAfter(patience, acquire));
              });
            });
          });
        }, { clock: new MockClock({ autojumpThreshold: 0 }) });

        const expected = model(requests, burst, interval / rate);
        expect(granted.map((t) => t !== null)).toEqual(expected.map((t) => t !== null));
        granted.forEach((t, i) => {
          if (t !== null) expect(t).toBeCloseTo(expected[i]!, 6);
        });
        // The bound, over every window from one grant to another (the tightest windows).
        const grants = requests.flatMap((r, i) => (granted[i] === null ? [] : [{ t: granted[i]!, tokens: r.tokens, at: r.at, i }]));
        for (const from of grants) {
          for (const to of grants) {
            if (to.t < from.t) continue;
            const taken = grants.filter((g) => g.t >= from.t && g.t <= to.t).reduce((sum, g) => sum + g.tokens, 0);
            expect(taken).toBeLessThanOrEqual(burst + (rate * (to.t - from.t)) / interval + 1e-9);
          }
        }
        // FIFO: who asked earlier is served no later.
        const byArrival = [...grants].sort((a, b) => a.at - b.at || a.i - b.i);
        for (let k = 1; k < byArrival.length; k++) expect(byArrival[k]!.t).toBeGreaterThanOrEqual(byArrival[k - 1]!.t);
      }),
      fcOptions(100),
    );
  });
});
