// assertCheckpoints / assertNoCheckpoints, and through them the contract that
// every blocking operation is a checkpoint (whether or not it had to wait) and
// that handshakes, releases, closes and disposal are not.
import { describe, expect, it } from "vitest";
import {
  CapacityLimiter,
  Condition,
  Event,
  Lock,
  Semaphore,
  abortable,
  checkpoint,
  openMemoryChannel,
  produce,
  run,
  sleep,
  sleepUntil,
  taskGroup,
  now,
  type TaskStatus,
} from "@quartet/core";
import { parkCurrentTask } from "@quartet/core/lowlevel";
import { MockClock, assertCheckpoints, assertNoCheckpoints } from "../src/index.js";

function virtual(body: () => Promise<void>): () => Promise<void> {
  return () => run(body, { clock: new MockClock({ autojumpThreshold: 0 }) });
}

describe("assertCheckpoints and assertNoCheckpoints", () => {
  it("tell a checkpoint from awaiting a plain promise", virtual(async () => {
    await assertCheckpoints(() => checkpoint());
    await assertNoCheckpoints(async () => {
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    });
    await expect(assertCheckpoints(async () => await Promise.resolve())).rejects.toThrow("assertCheckpoints(): the body passed no checkpoint");
    await expect(assertNoCheckpoints(() => checkpoint())).rejects.toThrow("assertNoCheckpoints(): the body passed a checkpoint");
    await expect(assertNoCheckpoints(async () => { await checkpoint(); await checkpoint(); })).rejects.toThrow("passed 2 checkpoints");
  }));

  it("count only the calling task's checkpoints, not those of tasks it waits for", virtual(async () => {
    await assertNoCheckpoints(() =>
      taskGroup(async (tg) => {
        tg.spawn(() => sleep(5)); // the child's checkpoints are its own
      }),
    );
  }));

  it("rethrow the body's error; assertNoCheckpoints reports a checkpoint first, with the error as its cause", virtual(async () => {
    const boom = new Error("boom");
    await expect(assertCheckpoints(async () => { await checkpoint(); throw boom; })).rejects.toBe(boom);
    await expect(assertNoCheckpoints(async () => { throw boom; })).rejects.toBe(boom);
    const error = await assertNoCheckpoints(async () => { await checkpoint(); throw boom; }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/passed a checkpoint/);
    expect((error as Error).cause).toBe(boom);
  }));

  it("reject a body that is not a function with a TypeError", async () => {
    await expect(assertCheckpoints(42 as never)).rejects.toThrow(TypeError);
    await expect(assertNoCheckpoints(null as never)).rejects.toThrow("assertNoCheckpoints() body must be a function; got null");
  });
});

describe("every blocking operation is a checkpoint, whether or not it waits", () => {
  it("sleeps and checkpoint()", virtual(async () => {
    await assertCheckpoints(() => sleep(0));
    await assertCheckpoints(() => sleep(5));
    await assertCheckpoints(() => sleepUntil(now() - 1));
    await assertCheckpoints(() => checkpoint());
  }));

  it("channel send and receive, buffered and rendezvous", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(1);
    await assertCheckpoints(() => send.send(1)); // into the buffer: no wait
    await assertCheckpoints(() => receive.receive()); // from the buffer: no wait
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(1);
        await send.send(2);
      });
      await assertCheckpoints(() => receive.receive()); // waits
    });
    await assertCheckpoints(async () => {
      send.sendNowait(3);
      for await (const value of receive) {
        expect(value).toBe(3);
        break;
      }
    });
  }));

  it("Lock, Semaphore, CapacityLimiter and Condition", virtual(async () => {
    const lock = new Lock();
    await assertCheckpoints(() => lock.acquire()); // free: no wait
    lock.release();
    const semaphore = new Semaphore(1);
    await assertCheckpoints(() => semaphore.acquire());
    semaphore.release();
    const limiter = new CapacityLimiter(1);
    await assertCheckpoints(() => limiter.acquire());
    limiter.release();
    const condition = new Condition();
    await condition.acquire();
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await condition.acquire();
        condition.notify();
        condition.release();
      });
      await assertCheckpoints(() => condition.wait());
    });
    condition.release();
  }));

  it("Event.wait(), set or not; abortable(); parkCurrentTask()", virtual(async () => {
    const event = new Event();
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(1);
        event.set();
      });
      await assertCheckpoints(() => event.wait());
    });
    await assertCheckpoints(() => event.wait()); // already set
    await assertCheckpoints(() => abortable(Promise.resolve(1)));
    await assertCheckpoints(async () => {
      const parked = parkCurrentTask<number>();
      parked.wake(1);
      await parked.promise;
    });
  }));

  it("a producer stream's receive()", virtual(async () => {
    await using stream = await produce<number>(async ({ send }) => {
      for (;;) await send(1);
    });
    await assertCheckpoints(() => stream.receive());
  }));
});

describe("handshakes, releases, closes and disposal are not checkpoints", () => {
  it("start() waits for started() without being a checkpoint itself", virtual(async () => {
    await taskGroup(async (tg) => {
      await assertNoCheckpoints(() =>
        tg.start(async (status: TaskStatus) => {
          await sleep(5);
          status.started();
        }),
      );
    });
  }));

  it("a producer stream's close() and disposal", virtual(async () => {
    const stream = await produce<number>(async ({ send }) => {
      try {
        for (;;) await send(1);
      } finally {
        await sleep(1).catch(() => {}); // cleanup that waits
      }
    });
    await stream.receive();
    await assertNoCheckpoints(() => stream.close());
    const other = await produce<number>(async ({ send }) => {
      for (;;) await send(1);
    });
    await assertNoCheckpoints(async () => await other[Symbol.asyncDispose]());
  }));

  it("releasing, setting, closing, and the Nowait forms", virtual(async () => {
    await assertNoCheckpoints(async () => {
      const lock = new Lock();
      lock.acquireNowait()[Symbol.dispose]();
      const semaphore = new Semaphore(1);
      semaphore.acquireNowait();
      semaphore.release();
      new Event().set();
      const [send, receive] = openMemoryChannel<number>(1);
      send.sendNowait(1);
      receive.receiveNowait();
      await send[Symbol.asyncDispose]();
      receive.close();
    });
  }));
});
