// runInWorker and worker pools, on real worker threads. Tests that open a pool close it and check that
// every thread has exited; tests of the shared pool leave idle threads, which do not keep the process alive.
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it, vi } from "vitest";
import {
  BrokenResourceError,
  CancelScope,
  CapacityLimiter,
  ClosedResourceError,
  DeadlockError,
  TimeoutError,
  all,
  isCancelled,
  moveOnAfter,
  taskGroup,
} from "@quartet/core";
import { openWorkerPool, receiveChannelOverPort, runInWorker, sendChannelOverPort, type WorkerPool, type WorkerPoolOptions } from "../src/index.js";

/** Fixtures that use Quartet in the worker are TypeScript, loaded as the package sources are (tsx). */
const TYPESCRIPT_FIXTURES = new Set(["cooperative", "throws", "deadlock", "stage"]);
// Each pool starts its threads, which load the package's TypeScript sources through tsx: on a busy
// machine that takes a second or more, so these tests get more time than the default.
vi.setConfig({ testTimeout: 20_000 });

const fixture = (name: string) => new URL(`fixtures/${name}${TYPESCRIPT_FIXTURES.has(name) ? ".ts" : ".mjs"}`, import.meta.url);

/** Runs `body` with a pool of its own; closes the pool after, and checks that its threads are gone. */
async function withPool(options: WorkerPoolOptions, body: (pool: WorkerPool) => Promise<void>): Promise<void> {
  const pool = openWorkerPool(options);
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
  expect(pool.statistics().threads, "threads left after close()").toBe(0);
}

/** Waits, on the real clock, until `condition()` holds (a worker thread's progress): a few ms at a time, for at most 5 s. */
async function until(condition: () => boolean): Promise<void> {
  for (const start = performance.now(); !condition(); ) {
    if (performance.now() - start > 5000) throw new Error("gave up waiting for the worker");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe("runInWorker", () => {
  it("returns what the module's default export returns", async () => {
    expect(await runInWorker<number>(fixture("double"), 21)).toBe(42);
  });

  it("takes an absolute path as well as a URL", async () => {
    expect(await runInWorker<number>(fixture("double").pathname, 4)).toBe(8);
  });

  it("throws the error the worker threw", async () => {
    const error = await runInWorker(fixture("fail"), "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe("bad input: x");
  });

  it("throws a TypeError for a module without a default export function", async () => {
    await expect(runInWorker(fixture("no-default"))).rejects.toThrow(/must have a default export that is a function; got undefined/);
  });

  it("runs at most limiter.totalTokens workers at once", async () => {
    const shared = new SharedArrayBuffer(8);
    const limiter = new CapacityLimiter(2);
    // Four jobs, two at a time: each waits to see a partner running, so the most at once is 2 (never more).
    const jobs = Array.from({ length: 4 }, () => () => runInWorker<number>(fixture("busy"), shared, { limiter }));
    await all(jobs);
    expect(Atomics.load(new Int32Array(shared), 1)).toBe(2);
    expect(limiter.borrowedTokens).toBe(0);
  });

  it("lets one task make several calls at once (each call holds its limiter token in a task of its own)", async () => {
    const limiter = new CapacityLimiter(2);
    const results = await Promise.all([runInWorker<number>(fixture("double"), 1, { limiter }), runInWorker<number>(fixture("double"), 2, { limiter })]);
    expect(results).toEqual([2, 4]);
  });

  it("rejects bad arguments with TypeErrors and RangeErrors naming them", async () => {
    await expect(runInWorker("./relative.mjs")).rejects.toThrow(/runInWorker\(\) module must be an absolute path or a file: URL/);
    await expect(runInWorker(42 as unknown as string)).rejects.toThrow(new TypeError("runInWorker() module must be a URL or a path; got 42"));
    await expect(runInWorker(fixture("double"), 1, { limiter: 3 as unknown as CapacityLimiter })).rejects.toThrow(
      new TypeError("runInWorker() limiter must be a CapacityLimiter; got 3"),
    );
    await expect(runInWorker(fixture("double"), 1, { gracePeriod: -1 })).rejects.toThrow(
      new RangeError("runInWorker() gracePeriod must be a non-negative number of milliseconds; got -1"),
    );
    await expect(runInWorker(fixture("double"), 1, { pool: {} as WorkerPool })).rejects.toThrow(
      new TypeError("runInWorker() pool must be a WorkerPool from openWorkerPool(); got an object"),
    );
    await expect(runInWorker(fixture("double"), 1, { transferList: "x" as never })).rejects.toThrow(
      new TypeError('runInWorker() transferList must be an array if given; got "x"'),
    );
    expect(() => openWorkerPool({ maxThreads: 0 })).toThrow(new RangeError("openWorkerPool() maxThreads must be an integer of at least 1; got 0"));
    expect(() => openWorkerPool({ maxThreads: "2" as never })).toThrow(new TypeError('openWorkerPool() maxThreads must be a number; got "2"'));
    expect(() => openWorkerPool({ idleTimeout: NaN })).toThrow(RangeError);
    expect(() => openWorkerPool({ gracePeriod: "1s" as never })).toThrow(/openWorkerPool\(\) gracePeriod must be a number of milliseconds/);
  });

  it("throws a clear error for an input that cannot be copied to a thread, and for a result that cannot come back", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const input = await pool.run(fixture("double"), () => 1).catch((e: unknown) => e);
      expect(input).toBeInstanceOf(TypeError);
      expect((input as Error).message).toMatch(/the input for .*double\.mjs cannot be sent to a worker thread \(.*could not be cloned/);
      const result = await pool.run(fixture("throws"), "unsendable").catch((e: unknown) => e);
      expect(result).toBeInstanceOf(TypeError);
      expect((result as Error).message).toMatch(/what .*throws\.ts returned cannot be sent to the calling thread/);
      expect(await pool.run(fixture("double"), 5), "the thread still works").toBe(10);
      const inside = await pool.run(fixture("throws"), "unsendable-inside").catch((e: unknown) => e);
      expect((inside as Error).message).toMatch(/the worker thread running .*throws\.ts failed outside the call.*most likely what it returned cannot be sent/);
      expect(await pool.run(fixture("double"), 6), "a new thread takes the next call").toBe(12);
    });
  });
});

describe("cancelling runInWorker", () => {
  it("cancels the worker's run: its finally blocks run, the caller's Cancelled is thrown, and the thread goes back to the pool", async () => {
    await withPool({ maxThreads: 1, gracePeriod: 15_000 }, async (pool) => {
      const flags = new SharedArrayBuffer(8);
      const state = new Int32Array(flags);
      const { port1: report, port2 } = new MessageChannel();
      const reported = new Promise((resolve) => report.once("message", resolve));
      const scope = new CancelScope();
      let thrown: unknown;
      await taskGroup(async (tg) => {
        tg.spawn(() =>
          scope.run(async () => {
            try {
              await pool.run(fixture("cooperative"), { flags, report: port2 }, { transferList: [port2] });
            } catch (error) {
              thrown = error;
              throw error;
            }
          }),
        );
        await until(() => Atomics.load(state, 0) === 1);
        scope.cancel("enough");
      });
      report.close();
      expect(isCancelled(thrown)).toBe(true);
      expect(scope.cancelledCaught).toBe(true);
      expect(Atomics.load(state, 1), "the worker's finally ran").toBe(1);
      expect(await reported).toEqual({ cancelled: true, kind: "cancel", reason: "enough" });
      const statistics = pool.statistics();
      expect(statistics.threadsTerminated).toBe(0);
      expect(statistics.threads, "the thread is still there").toBe(1);
      expect(statistics.tasksRunning).toBe(0);
      expect(await pool.run(fixture("double"), 2), "and takes the next call").toBe(4);
    });
  });

  it("carries a deadline's cancellation across: the worker's Cancelled has kind 'deadline' and a TimeoutError as reason", async () => {
    await withPool({ maxThreads: 1, gracePeriod: 15_000 }, async (pool) => {
      const flags = new SharedArrayBuffer(8);
      const { port1: report, port2 } = new MessageChannel();
      const reported = new Promise((resolve) => report.once("message", resolve));
      const result = await moveOnAfter(50, () => pool.run(fixture("cooperative"), { flags, report: port2 }, { transferList: [port2] }));
      report.close();
      expect(result).toBeUndefined();
      expect(await reported).toMatchObject({ cancelled: true, kind: "deadline", reason: expect.stringMatching(/^TimeoutError: /) });
      expect(Atomics.load(new Int32Array(flags), 1)).toBe(1);
    });
  });

  it("a call cancelled while queued for a thread starts cancelled, with its own reason", async () => {
    await withPool({ maxThreads: 1, gracePeriod: 15_000 }, async (pool) => {
      const limiter = new CapacityLimiter(2); // two calls for one thread: the second waits in piscina's queue
      const first = { flags: new SharedArrayBuffer(8), channel: new MessageChannel(), scope: new CancelScope() };
      const second = { flags: new SharedArrayBuffer(8), channel: new MessageChannel(), scope: new CancelScope() };
      const reported = new Promise((resolve) => second.channel.port1.once("message", resolve));
      await taskGroup(async (tg) => {
        for (const call of [first, second]) {
          const input = { flags: call.flags, report: call.channel.port2 };
          tg.spawn(() => call.scope.run(() => pool.run(fixture("cooperative"), input, { limiter, transferList: [call.channel.port2] })));
        }
        await until(() => Atomics.load(new Int32Array(first.flags), 0) === 1 && pool.statistics().tasksQueued === 1);
        second.scope.cancel("second, while queued");
        await until(() => pool.statistics().tasksQueued === 1); // still queued: the thread is busy with the first
        first.scope.cancel("first");
      });
      for (const call of [first, second]) call.channel.port1.close();
      expect(await reported).toEqual({ cancelled: true, kind: "cancel", reason: "second, while queued" });
      expect(Atomics.load(new Int32Array(second.flags), 1), "its finally ran").toBe(1);
      expect(second.scope.cancelledCaught).toBe(true);
      expect(pool.statistics().threadsTerminated).toBe(0);
    });
  });

  it("terminates a worker that does not reach a checkpoint within the grace period, and waits until its thread has exited", async () => {
    await withPool({ maxThreads: 1, gracePeriod: 100 }, async (pool) => {
      const shared = new SharedArrayBuffer(4);
      const scope = new CancelScope();
      let cancelledAt = 0;
      await taskGroup(async (tg) => {
        tg.spawn(() => scope.run(() => pool.run(fixture("spin"), shared)));
        await until(() => Atomics.load(new Int32Array(shared), 0) === 1);
        cancelledAt = performance.now();
        scope.cancel(); // the worker is in an endless loop
      });
      expect(performance.now() - cancelledAt).toBeGreaterThanOrEqual(95);
      expect(scope.cancelledCaught).toBe(true);
      const statistics = pool.statistics();
      expect(statistics.threadsTerminated).toBe(1);
      expect(statistics.threads, "the terminated thread has exited").toBe(0);
      expect(await pool.run(fixture("double"), 3), "a new thread takes the next call").toBe(6);
    });
  });

  it("with gracePeriod 0, terminates at once", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const shared = new SharedArrayBuffer(4);
      const scope = new CancelScope();
      await taskGroup(async (tg) => {
        tg.spawn(() => scope.run(() => pool.run(fixture("spin"), shared, { gracePeriod: 0 })));
        await until(() => Atomics.load(new Int32Array(shared), 0) === 1);
        scope.cancel();
      });
      expect(pool.statistics().threadsTerminated).toBe(1);
    });
  });

  it("throws the error of a cleanup that fails after the cancellation, not the Cancelled", async () => {
    await withPool({ maxThreads: 1, gracePeriod: 15_000 }, async (pool) => {
      const error = await moveOnAfter(50, () => pool.run(fixture("throws"), "cleanup")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe("cleanup failed");
    });
  });

  it("a call cancelled before it starts never reaches a thread", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const scope = new CancelScope();
      scope.cancel();
      await scope.run(() => pool.run(fixture("double"), 1));
      expect(scope.cancelledCaught).toBe(true);
      expect(pool.statistics()).toMatchObject({ threads: 0, tasksCompleted: 0 });
    });
  });
});

describe("errors from a worker", () => {
  it("cross with their class name, message, stack, fields and causes", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const error = (await pool.run(fixture("throws"), "chain").catch((e: unknown) => e)) as Error & { code: string; line: number };
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe("ParseError");
      expect(error.message).toBe("bad line 3");
      expect(error.stack).toMatch(/^ParseError: bad line 3\n\s+at throws \(.*fixtures\/throws\.ts:\d+:\d+\)/);
      expect(error.code).toBe("E_PARSE");
      expect(error.line).toBe(3);
      const cause = error.cause as Error;
      expect(cause).toBeInstanceOf(TypeError);
      expect(cause.message).toBe("not a number");
      expect(cause.stack).toMatch(/throws\.ts/);
      expect(cause.cause).toBe("the raw text");
    });
  });

  it("Quartet's errors and AggregateErrors are rebuilt as themselves; thrown non-errors arrive as copies", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const timeout = await pool.run(fixture("throws"), "timeout").catch((e: unknown) => e);
      expect(timeout).toBeInstanceOf(TimeoutError);
      const aggregate = (await pool.run(fixture("throws"), "aggregate").catch((e: unknown) => e)) as AggregateError;
      expect(aggregate).toBeInstanceOf(AggregateError);
      expect(aggregate.errors.map((e: Error) => [e.constructor.name, e.message])).toEqual([
        ["RangeError", "first"],
        ["Error", "second"],
      ]);
      expect(await pool.run(fixture("throws"), "value").catch((e: unknown) => e)).toEqual({ code: 7 });
    });
  });

  it("a run that deadlocks in the worker fails with a DeadlockError showing the task tree", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const error = await pool.run(fixture("deadlock")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeadlockError);
      expect((error as Error).message).toMatch(/deadlock in the worker thread running .*deadlock\.ts/);
      expect((error as Error).message).toMatch(/waiter.*Event/);
    });
  });

  it("a run whose tasks wait for a timer of its own is not a deadlock", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      expect(await pool.run(fixture("deadlock"), "timer")).toBe("woken");
    });
  });
});

describe("worker pools", () => {
  it("statistics() counts threads and calls", async () => {
    await withPool({ maxThreads: 2 }, async (pool) => {
      expect(pool.statistics()).toEqual({
        threads: 0,
        idleThreads: 0,
        maxThreads: 2,
        tasksRunning: 0,
        tasksQueued: 0,
        tasksWaiting: 0,
        tasksCompleted: 0,
        threadsTerminated: 0,
        utilization: expect.any(Number),
      });
      expect(Object.isFrozen(pool.statistics())).toBe(true);
      const shared = new SharedArrayBuffer(8);
      await all(Array.from({ length: 4 }, () => () => pool.run(fixture("busy"), shared)));
      const after = pool.statistics();
      expect(after.tasksCompleted).toBe(4);
      expect(after.threads).toBeGreaterThanOrEqual(1);
      expect(after.threads).toBeLessThanOrEqual(2);
      expect(Atomics.load(new Int32Array(shared), 1), "at most maxThreads at once").toBe(2);
    });
  });

  it("while calls run, statistics() shows them and the ones waiting for a token", async () => {
    await withPool({ maxThreads: 1, gracePeriod: 0 }, async (pool) => {
      const shared = new SharedArrayBuffer(4);
      await taskGroup(async (tg) => {
        tg.spawn(() => pool.run(fixture("spin"), shared));
        tg.spawn(() => pool.run(fixture("spin"), shared));
        await until(() => Atomics.load(new Int32Array(shared), 0) === 1);
        expect(pool.statistics()).toMatchObject({ threads: 1, tasksRunning: 1, tasksWaiting: 1 });
        tg.cancelScope.cancel();
      });
    });
  });

  it("a closed pool refuses calls, and calls running in it throw ClosedResourceError", async () => {
    const pool = openWorkerPool({ maxThreads: 1 });
    const shared = new SharedArrayBuffer(4);
    const error = await taskGroup(async (tg) => {
      let thrown: unknown;
      tg.spawn(async () => {
        thrown = await pool.run(fixture("spin"), shared).catch((e: unknown) => e);
      });
      await until(() => Atomics.load(new Int32Array(shared), 0) === 1);
      await pool.close();
      return () => thrown;
    });
    expect(error!()).toBeInstanceOf(ClosedResourceError);
    await expect(pool.run(fixture("double"), 1)).rejects.toThrow(new ClosedResourceError("WorkerPool.run() on a worker pool that was closed"));
    await pool.close(); // twice: nothing more
    expect(pool.statistics().threads).toBe(0);
  });
});

describe("channels over ports to a worker", () => {
  /** A stage in a worker between two port channels; `feed` sends into it, the results are collected. */
  async function runStage(pool: WorkerPool, mode: string, feed: (send: ReturnType<typeof sendChannelOverPort<number>>) => Promise<void>, flags?: SharedArrayBuffer) {
    const toWorker = new MessageChannel();
    const fromWorker = new MessageChannel();
    const results: number[] = [];
    let count: number | undefined;
    let fed: unknown;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        const input = { mode, input: toWorker.port2, output: fromWorker.port1, flags };
        count = await pool.run<number>(fixture("stage"), input, { transferList: [toWorker.port2, fromWorker.port1] });
      });
      tg.spawn(async () => {
        using send = sendChannelOverPort<number>(toWorker.port1, { bufferSize: 4 });
        fed = await feed(send).catch((e: unknown) => e);
      });
      using receive = receiveChannelOverPort<number>(fromWorker.port2);
      for await (const value of receive) results.push(value);
    });
    return { results, count, fed };
  }

  it("a stage in a worker keeps the order of the values, and the channels end when the sender closes", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const { results, count } = await runStage(pool, "double", async (send) => {
        for (let i = 0; i < 500; i++) await send.send(i);
      });
      expect(count).toBe(500);
      expect(results).toEqual(Array.from({ length: 500 }, (_, i) => i * 2));
    });
  });

  it("holds the sender back: at most bufferSize values are in flight while the stage does not receive", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const flags = new SharedArrayBuffer(8);
      const state = new Int32Array(flags);
      let sent = 0;
      const { results } = await runStage(
        pool,
        "hold",
        async (send) => {
          await taskGroup(async (tg) => {
            tg.spawn(async () => {
              for (let i = 0; i < 10; i++) {
                await send.send(i);
                sent++;
                expect(send.statistics().currentBufferUsed).toBeLessThanOrEqual(4);
              }
            });
            await until(() => Atomics.load(state, 0) === 2 && send.statistics().tasksWaitingSend === 1);
            // The stage took 2 values and holds: 2 + 4 sent, the 7th waits.
            expect(sent).toBe(6);
            expect(send.statistics()).toMatchObject({ currentBufferUsed: 4, maxBufferSize: 4, tasksWaitingSend: 1 });
            Atomics.store(state, 1, 1);
            Atomics.notify(state, 1);
          });
        },
        flags,
      );
      expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    });
  });

  it("a stage that closes its receive end breaks the sender's channel (BrokenResourceError)", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const { results, count, fed } = await runStage(pool, "take3", async (send) => {
        for (let i = 0; ; i++) await send.send(i);
      });
      expect(count).toBe(3);
      expect(results).toEqual([0, 2, 4]);
      expect(fed).toBeInstanceOf(BrokenResourceError);
    });
  });

  it("a stage that fails without closing its send end: the values sent arrive, then BrokenResourceError, and the call throws", async () => {
    await withPool({ maxThreads: 1 }, async (pool) => {
      const toWorker = new MessageChannel();
      const fromWorker = new MessageChannel();
      const received: number[] = [];
      let ending: unknown;
      const error = await taskGroup(async (tg) => {
        tg.spawn(async () => {
          using receive = receiveChannelOverPort<number>(fromWorker.port2);
          try {
            for (;;) received.push(await receive.receive());
          } catch (e) {
            ending = e;
          }
        });
        const input = { mode: "fail", input: toWorker.port2, output: fromWorker.port1 };
        return pool.run(fixture("stage"), input, { transferList: [toWorker.port2, fromWorker.port1] }).catch((e: unknown) => e);
      });
      toWorker.port1.close();
      expect((error as Error).message).toBe("stage failed");
      expect(received).toEqual([1, 2]);
      expect(ending).toBeInstanceOf(BrokenResourceError);
    });
  });
});
