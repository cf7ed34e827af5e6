import { describe, expect, it } from "vitest";
import { CancelScope, Event, Lock, isCancelled, now, openMemoryChannel, sleep, sleepForever, taskGroup } from "@quartet/core";
import { MockClock, withTaskTreeOnTimeout } from "../src/index.js";

/** A body that hangs: "stuck" waits on an event nobody sets, "holder" keeps a lock that "waiter" wants. */
function hangingBody(cleanedUp: string[]) {
  return async () => {
    const never = new Event({ name: "never" });
    const lock = new Lock({ name: "db" });
    await taskGroup(
      async (tg) => {
        tg.spawn(
          async () => {
            try {
              await never.wait();
            } finally {
              cleanedUp.push("stuck");
            }
          },
          { name: "stuck" },
        );
        tg.spawn(
          async () => {
            using _held = await lock.acquire();
            await sleep(3_600_000);
          },
          { name: "holder" },
        );
        tg.spawn(async () => void (await lock.acquire()), { name: "waiter" });
      },
      { name: "workers" },
    );
  };
}

describe("withTaskTreeOnTimeout", () => {
  it("a body that finishes in time passes, and nothing is reported", async () => {
    const reports: string[] = [];
    let ran = false;
    const test = withTaskTreeOnTimeout(
      async () => {
        await sleep(1);
        ran = true;
        return "ignored";
      },
      { timeout: 5000, report: (text) => void reports.push(text) },
    );
    await expect(test()).resolves.toBeUndefined();
    expect(ran).toBe(true);
    expect(reports).toEqual([]);
  });

  it("a body that throws fails the test with its error, as it is", async () => {
    const error = new TypeError("boom");
    await expect(withTaskTreeOnTimeout(async () => Promise.reject(error), { timeout: 5000 })()).rejects.toBe(error);
  });

  it("a hanging body fails at timeout - margin with the task tree: each blocked task, what it waits in and from which line", async () => {
    const reports: string[] = [];
    const cleanedUp: string[] = [];
    const test = withTaskTreeOnTimeout(hangingBody(cleanedUp), { timeout: 200, margin: 180, report: (text) => void reports.push(text) });
    const started = performance.now();
    const error = await test().then(
      () => null,
      (error: unknown) => error as Error,
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(19); // real timers: give up at 200 - 180 ms (then up to 90 ms for cleanup)
    expect(error).toBeInstanceOf(Error);
    const lines = error!.message.split("\n");
    expect(lines[0]).toBe("test timed out after 20 ms; its tasks were:");
    expect(lines[1]).toMatch(/^task "main" — blocked: wait for children on task group "workers", for \d+ ms, at packages\/testing\/test\/task-tree-on-timeout\.test\.ts:\d+:\d+$/);
    expect(lines[2]).toBe('└─ task group "workers"');
    // (Frames in this package count as Quartet's own, so the line of each wait is checked in examples/test/testing-guide.test.ts.)
    const since = String.raw`, for \d+ ms`;
    expect(lines[3]).toMatch(new RegExp(String.raw`^   ├─ task "stuck" — blocked: wait on Event "never"${since}`));
    expect(lines[4]).toMatch(new RegExp(String.raw`^   ├─ task "holder" — blocked: sleep until \d+ ms \(in 60\.0 min\)${since}`));
    expect(lines[5]).toMatch(new RegExp(String.raw`^   └─ task "waiter" — blocked: acquire on Lock "db"${since}`));
    expect(lines).toHaveLength(6);
    // The same text went to the report (stderr by default), once.
    expect(reports).toEqual([error!.message]);
    // The body was cancelled, and its cleanup ran before the test failed.
    expect(cleanedUp).toEqual(["stuck"]);
  });

  it("with debug off, the tree says what each task waits in but not where", async () => {
    const test = withTaskTreeOnTimeout(hangingBody([]), { timeout: 200, margin: 180, debug: false, report: () => {} });
    const error = (await test().catch((error: unknown) => error)) as Error;
    expect(error.message).toContain('├─ task "stuck" — blocked: wait on Event "never"\n');
    expect(error.message).toContain('└─ task "waiter" — blocked: acquire on Lock "db"');
    expect(error.message).not.toMatch(/ at |, for /);
  });

  it("takes the timeout from vitest's test context", async (context) => {
    expect(context.task.timeout).toBe(1000);
    const channel = openMemoryChannel<number>(0, { name: "results" });
    const test = withTaskTreeOnTimeout(() => channel[1].receive(), { margin: 950, report: () => {} });
    await expect(test(context)).rejects.toThrow(/^test timed out after 50 ms; its tasks were:\ntask "main" — blocked: receive on channel "results"/);
    channel[0].close();
  }, 1000);

  it("works as vitest's test function, and runs the body in a run of its own on the given clock", withTaskTreeOnTimeout(
    async () => {
      await sleep(3_600_000);
      expect(now()).toBe(3_600_000); // virtual time, from 0: the body's own run
    },
    { clock: new MockClock({ autojumpThreshold: 0 }) },
  ));

  it("when the test runner stops the test first (its signal aborts), reports the tree and cancels the body", async () => {
    const reports: string[] = [];
    const controller = new AbortController();
    let cancelled: unknown = null;
    const test = withTaskTreeOnTimeout(
      async () => {
        try {
          await sleepForever();
        } catch (error) {
          cancelled = error;
          throw error;
        }
      },
      { timeout: Infinity, report: (text) => void reports.push(text) },
    );
    const ran = test({ signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    expect(reports).toEqual([]);
    controller.abort();
    await expect(ran).rejects.toThrow(/^the test runner stopped the test .*; its tasks were:\ntask "main" — blocked: sleep forever/);
    expect(reports).toHaveLength(1);
    expect(isCancelled(cancelled)).toBe(true);
    expect((cancelled as { origin: { kind: string } }).origin.kind).toBe("timeout");
  });

  it("a body that ignores its cancellation is left behind, and the message says so", async () => {
    const release = new Event();
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const test = withTaskTreeOnTimeout(
      async () => {
        try {
          await new CancelScope({ shield: true }).run(() => release.wait());
        } finally {
          finished();
        }
      },
      { timeout: 20, margin: 10, report: () => {} },
    );
    await expect(test()).rejects.toThrow(/^test timed out after 10 ms \(and had not finished cleaning up 5 ms after its cancellation\); its tasks were:\n/);
    release.set(); // let it end, so that the test leaves nothing behind
    await done;
  });

  it("a report that throws fails the test with its error, and the body is still cancelled", async () => {
    const broken = new Error("cannot write the report");
    const cleanedUp: string[] = [];
    const test = withTaskTreeOnTimeout(hangingBody(cleanedUp), {
      timeout: 20,
      margin: 10,
      report: () => {
        throw broken;
      },
    });
    await expect(test()).rejects.toBe(broken);
    await new Promise((resolve) => setImmediate(resolve)); // the cancelled body's cleanup
    expect(cleanedUp).toEqual(["stuck"]);
  });

  it("rejects bad arguments with TypeError and RangeError", () => {
    expect(() => withTaskTreeOnTimeout("body" as never)).toThrow(TypeError);
    expect(() => withTaskTreeOnTimeout(async () => {}, null as never)).toThrow(TypeError);
    expect(() => withTaskTreeOnTimeout(async () => {}, { timeout: "1s" as never })).toThrow(TypeError);
    expect(() => withTaskTreeOnTimeout(async () => {}, { timeout: -1 })).toThrow(RangeError);
    expect(() => withTaskTreeOnTimeout(async () => {}, { margin: Infinity })).toThrow(RangeError);
    expect(() => withTaskTreeOnTimeout(async () => {}, { debug: 1 as never })).toThrow(TypeError);
    expect(() => withTaskTreeOnTimeout(async () => {}, { report: "stderr" as never })).toThrow(TypeError);
  });
});
