import { setTimeout as hostDelay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  CancelScope,
  TimeoutError,
  abortable,
  currentEffectiveDeadline,
  failAfter,
  moveOnAfter,
  now,
  run,
  sleep,
  sleepForever,
  sleepUntil,
  taskGroup,
} from "@quartet/core";
import { MockClock } from "../src/index.js";

const HOUR = 3_600_000;

describe("MockClock", () => {
  it("starts at 0 and stands still until jumped", async () => {
    const clock = new MockClock();
    expect(clock.now()).toBe(0);
    await hostDelay(2);
    expect(clock.now()).toBe(0);
    clock.jump(250);
    expect(clock.now()).toBe(250);
    await run(async () => expect(now()).toBe(250), { clock });
  });

  it("wakes a sleeper when jumped past its deadline, and not before", async () => {
    const clock = new MockClock();
    const log: string[] = [];
    await run(
      async () => {
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            await sleep(100);
            log.push(`woke at ${now()}`);
          });
          await hostDelay(1); // the child is asleep now (the clock stands still)
          clock.jump(99);
          await hostDelay(1);
          expect(log).toEqual([]);
          clock.jump(1);
        });
      },
      { clock },
    );
    expect(log).toEqual(["woke at 100"]);
  });

  it("with autojump, finishes an hour's sleep at once", async () => {
    const started = performance.now();
    const end = await run(
      async () => {
        await sleep(HOUR);
        return now();
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
    expect(end).toBe(HOUR);
    expect(performance.now() - started).toBeLessThan(HOUR);
  });

  it("fires deadlines in order under autojump, exactly at their times", async () => {
    const log: string[] = [];
    await run(
      async () => {
        await taskGroup(async (tg) => {
          for (const ms of [5000, 10, 300, 20, 5000]) {
            tg.spawn(async () => {
              await sleep(ms);
              log.push(`${ms}@${now()}`);
            });
          }
          tg.spawn(async () => {
            const result = await moveOnAfter(250, () => sleepForever());
            log.push(`timeout@${now()} ${String(result)}`);
          });
        });
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
    expect(log).toEqual(["10@10", "20@20", "timeout@250 undefined", "300@300", "5000@5000", "5000@5000"]);
  });

  it("makes failAfter throw TimeoutError at the virtual deadline", async () => {
    await run(
      async () => {
        const error = await failAfter(HOUR, () => sleep(2 * HOUR)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TimeoutError);
        expect(now()).toBe(HOUR);
        expect(await failAfter(HOUR, async () => {
          await sleep(HOUR - 1);
          return "in time";
        })).toBe("in time");
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
  });

  it("does not jump while a task awaits a foreign promise", async () => {
    const log: string[] = [];
    await run(
      async () => {
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            await sleep(HOUR);
            log.push("virtual hour passed");
          });
          tg.spawn(async () => {
            await hostDelay(20); // a real 20 ms timer: this task is not blocked in Quartet
            log.push(`foreign timer done at virtual ${now()}`);
          });
        });
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
    expect(log).toEqual(["foreign timer done at virtual 0", "virtual hour passed"]);
  });

  it("with a threshold, gives real work inside abortable() that much real time before jumping", async () => {
    const log: string[] = [];
    await run(
      async () => {
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            await sleep(HOUR);
            log.push("virtual hour passed");
          });
          tg.spawn(async () => {
            await abortable(hostDelay(20)); // blocked in Quartet, but real work is under way
            log.push(`foreign work done at virtual ${now()}`);
          });
        });
      },
      { clock: new MockClock({ autojumpThreshold: 200 }) },
    );
    expect(log).toEqual(["foreign work done at virtual 0", "virtual hour passed"]);
  });

  it("keeps the order of wake-ups and deadlines of nested scopes and shields", async () => {
    const log: string[] = [];
    await run(
      async () => {
        await moveOnAfter(100, async () => {
          try {
            await sleepForever();
          } finally {
            await new CancelScope({ shield: true, deadline: now() + 50 }).run(async () => {
              expect(currentEffectiveDeadline()).toBe(150);
              await sleep(30);
              log.push(`cleanup done at ${now()}`);
              await sleep(30);
              log.push("unreachable: the shield's own deadline passed");
            });
          }
        });
        log.push(`moved on at ${now()}`);
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
    expect(log).toEqual(["cleanup done at 130", "moved on at 150"]);
  });

  it("never jumps past a pending deadline when a task is blocked in two operations at once", async () => {
    const woke: Array<[string, number]> = [];
    await run(async () => {
      async function* ticks(): AsyncGenerator<number> {
        for (const ms of [5, 5, 5]) {
          await sleep(ms); // blocked here and, around it, in abortable(): two blocks of one task
          woke.push(["generator", now()]);
          yield now();
        }
      }
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await sleep(100);
          woke.push(["late sleeper", now()]);
        });
        tg.spawn(async () => {
          const iterator = ticks();
          for (let i = 0; i < 3; i++) await abortable(iterator.next());
          await iterator.return(undefined);
        });
      });
    }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    expect(woke).toEqual([["generator", 5], ["generator", 10], ["generator", 15], ["late sleeper", 100]]);
  });

  it("runs at a rate: virtual time follows real time, scaled", async () => {
    const clock = new MockClock({ rate: 1000 });
    const started = performance.now();
    await run(
      async () => {
        await sleepUntil(5000); // 5 virtual seconds, about 5 real ms
      },
      { clock },
    );
    expect(clock.now()).toBeGreaterThanOrEqual(5000);
    expect(performance.now() - started).toBeLessThan(5000);
    clock.rate = 0;
    const frozen = clock.now();
    await hostDelay(2);
    expect(clock.now()).toBe(frozen);
  });

  it("can turn autojump on while a run is blocked", async () => {
    const clock = new MockClock();
    await run(
      async () => {
        await taskGroup(async (tg) => {
          tg.spawn(() => sleep(HOUR));
          await hostDelay(1);
          clock.autojumpThreshold = 0;
        });
        expect(now()).toBe(HOUR);
      },
      { clock },
    );
  });

  it("drives one run at a time", async () => {
    const clock = new MockClock();
    const first = run(() => sleep(10), { clock });
    await expect(run(async () => {}, { clock })).rejects.toThrow(/this MockClock already drives a run/);
    clock.jump(10);
    await first;
    await run(async () => {}, { clock }); // free again once the first run has returned
  });

  it("rejects bad settings with TypeError and RangeError", () => {
    expect(() => new MockClock({ rate: -1 })).toThrow(RangeError);
    expect(() => new MockClock({ rate: Infinity })).toThrow(/finite, non-negative/);
    expect(() => new MockClock({ autojumpThreshold: Number.NaN })).toThrow(RangeError);
    expect(() => new MockClock({ autojumpThreshold: "0" as never })).toThrow(TypeError);
    expect(() => new MockClock(3 as never)).toThrow(TypeError);
    expect(() => new MockClock().jump(-5)).toThrow(/MockClock jump must be a finite, non-negative number; got -5/);
  });
});
