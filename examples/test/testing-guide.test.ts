// The code of docs/testing.md: each region below is included in that guide,
// and runs here as a test in CI.
// #region imports
import { describe, expect, it } from "vitest";
import { TimeoutError, failAfter, now, openMemoryChannel, run, sleep, sleepForever, taskGroup } from "@quartet/core";
import { MockClock, Sequencer, assertCheckpoints, assertNoCheckpoints, waitAllTasksBlocked, withTaskTreeOnTimeout } from "@quartet/testing";
// #endregion

// #region code-under-test
/** Calls `attempt` until it succeeds, waiting 1 s, 2 s, 4 s… between tries. */
async function withRetry<T>(attempt: () => Promise<T>, tries: number): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i + 1 >= tries) throw error;
      await sleep(1000 * 2 ** i);
    }
  }
}
// #endregion

describe("the testing guide", () => {
  // #region virtual-time
  it("backs off 1 s, 2 s and 4 s between four tries", async () => {
    const triedAt: number[] = [];
    await run(
      async () => {
        const result = await withRetry(async () => {
          triedAt.push(now());
          if (triedAt.length < 4) throw new Error("not yet");
          return "ok";
        }, 5);
        expect(result).toBe("ok");
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
    expect(triedAt).toEqual([0, 1000, 3000, 7000]); // exact, and no real waiting
  });
  // #endregion

  // #region timeout
  it("gives up on a slow call after exactly 5 seconds", async () => {
    await run(
      async () => {
        const slowCall = () => sleep(60_000);
        await expect(failAfter(5000, slowCall)).rejects.toBeInstanceOf(TimeoutError);
        expect(now()).toBe(5000);
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    );
  });
  // #endregion

  // #region manual-jump
  it("does not fire a deadline a millisecond early", async () => {
    const clock = new MockClock(); // no autojump: time moves only when the test says so
    await run(
      async () => {
        let woke = false;
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            await sleep(1000);
            woke = true;
          });
          await waitAllTasksBlocked(); // the child is now asleep
          clock.jump(999);
          await waitAllTasksBlocked();
          expect(woke).toBe(false);
          clock.jump(1);
        });
        expect(woke).toBe(true);
      },
      { clock },
    );
  });
  // #endregion

  // #region wait-all-tasks-blocked
  it("lets the workers settle before checking on them", async () => {
    await run(async () => {
      const seen: string[] = [];
      await taskGroup(async (tg) => {
        for (const name of ["a", "b", "c"]) {
          tg.spawn(async () => {
            seen.push(name);
            await sleepForever(); // wait for work that never comes
          });
        }
        await waitAllTasksBlocked(); // every worker is now parked in sleepForever()
        expect(seen.sort()).toEqual(["a", "b", "c"]);
        tg.cancelScope.cancel();
      });
    });
  });
  // #endregion

  // #region sequencer
  it("checks an interleaving that is hard to get by chance", async () => {
    const seq = new Sequencer();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await seq.run(0, () => log.push("writer: begin"));
        await seq.run(2, () => log.push("writer: commit"));
      });
      tg.spawn(async () => {
        await seq.run(1, () => log.push("reader: reads in the middle"));
      });
    });
    expect(log).toEqual(["writer: begin", "reader: reads in the middle", "writer: commit"]);
  });
  // #endregion

  // #region checkpoints
  it("pins which operations of a cache can be cancelled", async () => {
    /** A cache whose misses wait for the loader; hits return without a checkpoint. */
    class Cache {
      readonly #values = new Map<string, string>();
      async get(key: string, load: () => Promise<string>): Promise<string> {
        const hit = this.#values.get(key);
        if (hit !== undefined) return hit;
        const value = await load();
        this.#values.set(key, value);
        return value;
      }
    }
    const cache = new Cache();
    await run(async () => {
      // A miss waits for the loader, which sleeps: a checkpoint, so it can be cancelled.
      await assertCheckpoints(() => cache.get("a", async () => { await sleep(10); return "A"; }));
      // A hit never yields: callers may rely on it not being interrupted.
      await assertNoCheckpoints(() => cache.get("a", async () => "unused"));
    }, { clock: new MockClock({ autojumpThreshold: 0 }) });
  });
  // #endregion

  // #region task-tree-on-timeout
  it(
    "retries until the service answers",
    withTaskTreeOnTimeout(
      async () => {
        let calls = 0;
        const result = await withRetry(async () => (++calls < 3 ? Promise.reject(new Error("busy")) : "ok"), 5);
        expect(result).toBe("ok");
      },
      { clock: new MockClock({ autojumpThreshold: 0 }) },
    ),
  );
  // #endregion

  // #region hanging-test
  /** A request–reply exchange in which the server never answers: the test would hang. */
  async function askServer(): Promise<void> {
    const [sendRequest, receiveRequest] = openMemoryChannel<string>(0, { name: "requests" });
    const [, receiveReply] = openMemoryChannel<string>(0, { name: "replies" });
    await taskGroup(
      async (tg) => {
        tg.spawn(async () => void (await receiveRequest.receive()), { name: "server" }); // takes the request, never replies
        tg.spawn(
          async () => {
            await sendRequest.send("GET /config");
            await receiveReply.receive();
          },
          { name: "client" },
        );
      },
      { name: "exchange" },
    );
  }

  it("says where a hanging test hangs", async () => {
    const hangingTest = withTaskTreeOnTimeout(askServer, { timeout: 200, margin: 150, report: () => {} });
    const error = await hangingTest().catch((error: unknown) => error as Error);
    expect(error?.message).toMatch(/^test timed out after 50 ms; its tasks were:\n/);
    expect(error?.message).toMatch(/task "client" — blocked: receive on channel "replies", for \d+ ms, at .*testing-guide\.test\.ts:\d+:\d+/);
  });
  // #endregion
});
