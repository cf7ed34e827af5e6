import { describe, expect, it } from "vitest";
import { checkpoint, moveOnAfter, run, sleep, systemClockForTest, taskGroup, type Clock } from "./timer-helpers.js";
import { currentStatistics } from "../../src/lowlevel.js";

/** The system clock, counting the host timers it is asked for. */
function countingClock(): Clock & { timers: number; cancelled: number } {
  const clock = {
    timers: 0,
    cancelled: 0,
    now: () => systemClockForTest.now(),
    wakeAt(deadline: number, wake: () => void) {
      clock.timers++;
      const alarm = systemClockForTest.wakeAt(deadline, wake);
      return {
        cancel: () => {
          clock.cancelled++;
          alarm.cancel();
        },
        unref: () => alarm.unref?.(),
        ref: () => alarm.ref?.(),
      };
    },
  };
  return clock;
}

describe("one host timer per runtime", () => {
  it("100,000 scopes in a row whose deadline never fires use one host timer and leave nothing in the heap", async () => {
    const clock = countingClock();
    await run(
      async () => {
        for (let i = 0; i < 100_000; i++) await moveOnAfter(10_000, async () => i);
        expect(currentStatistics().deadlines).toBe(0);
      },
      { clock },
    );
    expect(clock.timers).toBe(1);
  });

  it("100,000 nested-in-parallel scopes use one host timer and leave nothing in the heap", async () => {
    const clock = countingClock();
    await run(
      async () => {
        await taskGroup(async (tg) => {
          for (let i = 0; i < 100_000; i++) tg.spawn(() => moveOnAfter(10_000 + (i % 1000), () => sleep(0)));
        });
        expect(currentStatistics().deadlines).toBe(0);
      },
      { clock },
    );
    expect(clock.timers).toBe(1);
  });

  it("re-arms only for a deadline earlier than the armed one", async () => {
    const clock = countingClock();
    await run(
      async () => {
        await moveOnAfter(10_000, async () => {
          await moveOnAfter(20_000, async () => {
            await moveOnAfter(5, () => checkpoint()); // earlier: one new timer
          });
        });
      },
      { clock },
    );
    expect(clock.timers).toBe(2);
  });
});
