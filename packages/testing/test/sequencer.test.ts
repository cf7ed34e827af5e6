import { describe, expect, it } from "vitest";
import { CancelScope, run, sleep, taskGroup } from "@quartet/core";
import { MockClock, Sequencer } from "../src/index.js";

describe("Sequencer", () => {
  it("makes tasks take turns in position order, whatever order they arrive in", async () => {
    const seq = new Sequencer();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using _ = await seq.step(2);
        log.push("c");
      });
      tg.spawn(async () => {
        await seq.run(1, async () => {
          await sleep(1);
          log.push("b");
        });
        using _ = await seq.step(3);
        log.push("d");
      });
      tg.spawn(async () => {
        await seq.run(0, () => log.push("a"));
      });
    });
    expect(log).toEqual(["a", "b", "c", "d"]);
  });

  it("returns the result of run() and releases the turn when it throws", async () => {
    const seq = new Sequencer();
    await expect(seq.run(0, () => Promise.reject(new Error("inside")))).rejects.toThrow("inside");
    expect(await seq.run(1, () => "next turn")).toBe("next turn");
  });

  it("refuses to use a position twice", async () => {
    const seq = new Sequencer();
    await seq.run(0, () => {});
    await expect(seq.step(0)).rejects.toThrow(/position 0 was already used/);
    await expect(seq.step(-1)).rejects.toThrow(RangeError);
    await expect(seq.step(1.5)).rejects.toThrow(RangeError);
  });

  it("breaks the sequence, failing every waiter, when a waiting task is cancelled", async () => {
    const seq = new Sequencer();
    const errors: string[] = [];
    await run(
      async () => {
        await taskGroup(async (tg) => {
          const scope = new CancelScope();
          tg.spawn(async () => {
            await scope.run(async () => {
              await seq.step(1).catch((e: Error) => {
                errors.push(e.message);
                throw e;
              });
            }).catch(() => {});
          });
          tg.spawn(async () => {
            await seq.step(2).catch((e: Error) => errors.push(e.message));
          });
          await sleep(10);
          scope.cancel();
        });
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
    expect(errors.sort()).toEqual([
      "Sequencer wait for position 1 was cancelled; the sequence is broken",
      "the Sequencer's sequence is broken (a task was cancelled while waiting for its turn)",
    ]);
    await expect(seq.step(0)).rejects.toThrow(/sequence is broken/);
  });
});
