// A producer's edges (DESIGN §3 "Edges", "Producer"): its Cancelled never
// crosses into a consumer's task, close() from anywhere (twice at once, from the
// producer itself) ends without hanging, and run() does not return while a
// producer it started is parked.
import { describe, expect, it } from "vitest";
import {
  BrokenResourceError,
  CancelScope,
  Cancelled,
  ClosedResourceError,

  produce,
  run,
  sleep,
  sleepForever,
  taskGroup,
  type ProducerContext,
  type ProducerStream,
} from "../src/index.js";
import { MockClock, virtual } from "./virtual-time.js";

/** 0, 1, 2, … forever, one per virtual ms, logging its cleanup after a virtual pause (cleanup that waits). */
function numbers(log: string[], cleanupMs = 0) {
  return async ({ started, send }: ProducerContext<number>): Promise<void> => {
    await started();
    try {
      for (let i = 0; ; i++) {
        await sleep(1);
        await send(i);
      }
    } finally {
      if (cleanupMs > 0) await new CancelScope({ shield: true }).run(() => sleep(cleanupMs));
      log.push("producer cleaned up");
    }
  };
}

/** What a consumer task saw: the values, then how it ended. */
async function consume(stream: ProducerStream<number>, how: "receive" | "iterate", seen: unknown[]): Promise<void> {
  try {
    if (how === "iterate") {
      for await (const value of stream) seen.push(value);
    } else {
      for (;;) seen.push(await stream.receive());
    }
    seen.push("loop ended");
  } catch (error) {
    seen.push(error);
  }
}

describe("a producer's cancellation stays in its scope", () => {
  for (const how of ["receive", "iterate"] as const) {
    it(`gives a consumer waiting in another task ClosedResourceError when the stream is closed (${how})`, virtual(async () => {
      const log: string[] = [];
      const seen: unknown[] = [];
      await taskGroup(async (tg) => {
        const stream = await produce(numbers(log, 5));
        tg.spawn(() => consume(stream, how, seen));
        await sleep(1);
        await stream.close();
        log.push("close() returned");
      });
      expect(log).toEqual(["producer cleaned up", "close() returned"]);
      const last = seen.at(-1);
      expect(last).toBeInstanceOf(ClosedResourceError);
      expect(last).not.toBeInstanceOf(Cancelled);
    }));

    it(`gives a consumer in another task BrokenResourceError when the producer's own scope is cancelled (${how})`, virtual(async () => {
      const log: string[] = [];
      const seen: unknown[] = [];
      let afterwards: unknown;
      await taskGroup(async (tg) => {
        let stream: ProducerStream<number> | undefined;
        const owner = new CancelScope();
        tg.spawn(async () => {
          await owner.run(async () => {
            stream = await produce(numbers(log));
            await sleepForever();
          });
        });
        await sleep(1);
        tg.spawn(() => consume(stream!, how, seen));
        await sleep(1);
        owner.cancel("owner gone");
        await sleep(1);
        afterwards = await stream!.receive().catch((error: unknown) => error);
        await stream!.close(); // not a failure the consumer missed: close() does not throw
      });
      const broken = seen.at(-1);
      expect(broken).toBeInstanceOf(BrokenResourceError);
      expect((broken as BrokenResourceError).cause).toBeInstanceOf(Cancelled);
      expect(((broken as BrokenResourceError).cause as Cancelled).reason).toBe("owner gone");
      expect(seen.slice(0, -1)).toEqual([...Array(seen.length - 1).keys()]); // values in order, then the error
      expect(afterwards).toBeInstanceOf(BrokenResourceError); // every time: the stream was cut off, it did not end
      expect(log).toEqual(["producer cleaned up"]);
    }));
  }

  it("gives a consumer inside the cancelled scope its own Cancelled", virtual(async () => {
    const log: string[] = [];
    const scope = new CancelScope();
    let seen: unknown;
    await scope.run(async () => {
      await using stream = await produce(numbers(log));
      await stream.receive();
      scope.cancel("stop");
      seen = await stream.receive().catch((error: unknown) => error);
      throw seen;
    });
    expect(seen).toBeInstanceOf(Cancelled);
    expect((seen as Cancelled).reason).toBe("stop");
    expect(scope.cancelledCaught).toBe(true);
    expect(log).toEqual(["producer cleaned up"]);
  }));

  it("still delivers a producer's own failure to a consumer in another task, after its values", virtual(async () => {
    const boom = new Error("boom");
    const seen: unknown[] = [];
    await taskGroup(async (tg) => {
      const stream = await produce<number>(async ({ send }) => {
        await send(1);
        await send(2);
        throw boom;
      });
      tg.spawn(() => consume(stream, "iterate", seen));
    });
    expect(seen).toEqual([1, 2, boom]);
  }));
});

describe("closing a producer's stream", () => {
  it("lets two tasks close it at once, both waiting for the cleanup, on a clock that jumps when all are blocked", virtual(async () => {
    const log: string[] = [];
    await taskGroup(async (tg) => {
      const stream = await produce(numbers(log, 10));
      await stream.receive();
      for (const who of ["first", "second"]) {
        tg.spawn(async () => {
          await stream.close();
          log.push(`${who} close() returned`);
        });
      }
    });
    expect(log).toEqual(["producer cleaned up", "first close() returned", "second close() returned"]);
  }));

  it("lets the producer close its own stream: the consumer's loop ends with ClosedResourceError and nothing hangs", virtual(async () => {
    const log: string[] = [];
    const seen: unknown[] = [];
    let stream: ProducerStream<number> | undefined;
    await taskGroup(async (tg) => {
      stream = await produce<number>(async ({ send }) => {
        try {
          await send(1);
          await send(2);
          await stream!.close(); // returns: it cannot wait for its own cleanup
          log.push("close() returned inside the producer");
          await send(3);
          log.push("unreachable");
        } catch (error) {
          log.push(error instanceof Cancelled ? "producer cancelled" : `other: ${String(error)}`);
          throw error;
        } finally {
          log.push("producer cleaned up");
        }
      });
      tg.spawn(() => consume(stream!, "iterate", seen));
    });
    expect(log).toEqual(["close() returned inside the producer", "producer cancelled", "producer cleaned up"]);
    expect(seen.slice(0, -1)).toEqual([1, 2].slice(0, seen.length - 1)); // what it took before the close
    expect(seen.at(-1)).toBeInstanceOf(ClosedResourceError);
    await stream!.close(); // and from outside afterwards: returns at once
  }));

  it("close() from a task inside the producer's own task group does not wait for itself", virtual(async () => {
    const log: string[] = [];
    let stream: ProducerStream<number> | undefined;
    stream = await produce<number>(async ({ started }) => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await started();
          await stream!.close();
          log.push("helper's close() returned");
        });
      });
    });
    await expect(stream.receive()).rejects.toBeInstanceOf(ClosedResourceError);
    await stream.close();
    expect(log).toEqual(["helper's close() returned"]);
  }));
});

describe("streams left open when run() returns", () => {
  it("are closed, with their cleanup finished, before run() resolves", async () => {
    const log: string[] = [];
    await run(async () => {
      const stream = await produce(numbers(log, 5));
      await stream.receive();
      log.push("main returns without closing");
    }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    log.push("run() resolved");
    expect(log).toEqual(["main returns without closing", "producer cleaned up", "run() resolved"]);
  });

  it("are closed also when main throws, and main's error is the one run() rejects with", async () => {
    const log: string[] = [];
    const boom = new Error("main failed");
    await expect(run(async () => {
      const stream = await produce<number>(async ({ send }) => {
        try {
          for (;;) await send(1);
        } finally {
          log.push("producer cleaned up");
          throw new Error("cleanup failed too"); // not lost silently, but main's error comes first
        }
      });
      await stream.receive();
      throw boom;
    }, { clock: new MockClock({ autojumpThreshold: 0 }) })).rejects.toBe(boom);
    expect(log).toEqual(["producer cleaned up"]);
  });

  it("make run() reject with a failure of their cleanup that nobody saw", async () => {
    const cleanupFailure = new Error("cleanup failed");
    await expect(run(async () => {
      const stream = await produce<number>(async ({ send }) => {
        try {
          for (;;) await send(1);
        } finally {
          throw cleanupFailure; // eslint-disable-line no-unsafe-finally
        }
      });
      await stream.receive();
    }, { clock: new MockClock({ autojumpThreshold: 0 }) })).rejects.toBe(cleanupFailure);
  });

  it("include streams opened by a producer's cleanup of a leftover stream", async () => {
    const log: string[] = [];
    await run(async () => {
      const outer = await produce<number>(async ({ send }) => {
        try {
          for (;;) await send(1);
        } finally {
          // Opened during (shielded) cleanup and never closed.
          await new CancelScope({ shield: true }).run(() =>
            produce<number>(async ({ started }) => {
              try {
                await started(); // waits for a first request that never comes
              } finally {
                log.push("inner producer cleaned up");
              }
            }),
          );
          log.push("outer cleaned up");
        }
      });
      await outer.receive();
    }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    expect(log).toEqual(["outer cleaned up", "inner producer cleaned up"]);
  });
});
