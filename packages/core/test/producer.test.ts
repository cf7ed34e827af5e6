import { setTimeout as hostDelay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  CancelScope,
  Cancelled,
  ClosedResourceError,
  EndOfChannel,
  checkpoint,
  moveOnAfter,
  now,
  produce,
  sleep,
  sleepForever,
  taskGroup,
  type ProducerContext,
} from "../src/index.js";
import { currentStatistics } from "../src/lowlevel.js";
import { virtual, waitAllTasksBlocked } from "./virtual-time.js";

/** A producer of 0, 1, 2, … that logs what it does. */
function counting(log: string[], limit = Infinity) {
  return async (ctx: ProducerContext<number>) => {
    log.push("setup");
    await ctx.started();
    try {
      for (let i = 0; i < limit; i++) {
        log.push(`compute ${i}`);
        await ctx.send(i);
        log.push(`sent ${i}`);
      }
    } finally {
      log.push("cleanup");
    }
  };
}

describe("produce", () => {
  it("delivers the values in order, and the stream ends when the producer returns", virtual(async () => {
    await using stream = await produce<string>(async (ctx) => {
      await ctx.started();
      for (const word of ["a", "b", "c"]) await ctx.send(word);
    });
    const got: string[] = [];
    for await (const word of stream) got.push(word);
    expect(got).toEqual(["a", "b", "c"]);
    await expect(stream.receive()).rejects.toBeInstanceOf(EndOfChannel);
  }));

  it("lets the producer take started and send off its context", virtual(async () => {
    await using stream = await produce<number>(async ({ started, send }) => {
      await started();
      await send(1);
      await send(2);
    });
    const got: number[] = [];
    for await (const value of stream) got.push(value);
    expect(got).toEqual([1, 2]);
  }));

  it("resolves only after setup, before anything of the data phase has run", virtual(async () => {
    const log: string[] = [];
    const started = now();
    await using stream = await produce<number>(async (ctx) => {
      await sleep(100); // opening a connection, say
      log.push("setup done");
      await ctx.started();
      log.push("data phase");
      await ctx.send(1);
    });
    expect(now() - started).toBe(100);
    await waitAllTasksBlocked();
    expect(log).toEqual(["setup done"]);
    expect(await stream.receive()).toBe(1);
    expect(log).toEqual(["setup done", "data phase"]);
  }));

  it("with buffer 0, never computes a value before the consumer asks for it", virtual(async () => {
    const log: string[] = [];
    await using stream = await produce(counting(log));
    for (let i = 0; i < 3; i++) {
      log.push(`pull ${i}`);
      expect(await stream.receive()).toBe(i);
      await waitAllTasksBlocked(); // give the producer every chance to run ahead
      log.push(`holding ${i}`);
    }
    expect(log).toEqual(["setup", "pull 0", "compute 0", "holding 0", "pull 1", "sent 0", "compute 1", "holding 1", "pull 2", "sent 1", "compute 2", "holding 2"]);
  }));

  it("with buffer N, runs at most N values ahead: while the consumer holds value i it waits in send(i+N)", virtual(async () => {
    for (const buffer of [1, 3]) {
      const log: string[] = [];
      await using stream = await produce(counting(log), { buffer });
      await waitAllTasksBlocked();
      expect(log).toEqual(["setup"]); // nothing before the first pull
      for (let i = 0; i < 5; i++) {
        expect(await stream.receive()).toBe(i);
        await waitAllTasksBlocked();
        const computed = log.filter((line) => line.startsWith("compute")).length;
        const sent = log.filter((line) => line.startsWith("sent")).length;
        expect(computed).toBe(i + buffer + 1); // values 0..i+N have been computed…
        expect(sent).toBe(i + buffer); // …and send(i+N) has not returned
      }
    }
  }));

  it("throws an error of the setup phase from produce(), as it is", virtual(async () => {
    const error = new Error("cannot open the file");
    const log: string[] = [];
    await expect(
      produce(async () => {
        try {
          await sleep(5);
          throw error;
        } finally {
          log.push("setup cleaned up");
        }
      }),
    ).rejects.toBe(error);
    expect(log).toEqual(["setup cleaned up"]);
  }));

  it("delivers an error of the data phase after every value sent before it", virtual(async () => {
    const error = new Error("connection lost");
    await using stream = await produce<number>(async (ctx) => {
      await ctx.started();
      await ctx.send(1);
      await ctx.send(2);
      throw error;
    }, { buffer: 4 });
    const got: unknown[] = [];
    await expect(
      (async () => {
        for await (const n of stream) got.push(n);
      })(),
    ).rejects.toBe(error);
    expect(got).toEqual([1, 2]);
    await expect(stream.receive()).rejects.toBeInstanceOf(EndOfChannel); // reported once, then the end
  }));

  it("gives an empty stream for a producer that sends nothing", virtual(async () => {
    await using quiet = await produce<number>(async () => {});
    await expect(quiet.receive()).rejects.toBeInstanceOf(EndOfChannel);
    await using startedOnly = await produce<number>(async (ctx) => {
      await ctx.started();
    });
    const got: number[] = [];
    for await (const n of startedOnly) got.push(n);
    expect(got).toEqual([]);
  }));

  it("treats a send() before started() as the end of setup", virtual(async () => {
    const log: string[] = [];
    await using stream = await produce<string>(async (ctx) => {
      log.push("computed during setup");
      await ctx.send("first");
      log.push("second pull arrived");
    });
    expect(log).toEqual(["computed during setup"]);
    expect(await stream.receive()).toBe("first");
    await expect(stream.receive()).rejects.toBeInstanceOf(EndOfChannel);
    expect(log).toEqual(["computed during setup", "second pull arrived"]);
  }));

  it("makes a second started() throw in the producer; the consumer gets the error", virtual(async () => {
    await using stream = await produce<number>(async (ctx) => {
      await ctx.started();
      await ctx.started();
    });
    await expect(stream.receive()).rejects.toThrow(/started\(\) was called twice by the producer/);
  }));

  describe("leaving early", () => {
    const ways = {
      "break out of for await": async (stream: AsyncIterable<number>) => {
        for await (const n of stream) if (n === 1) break;
      },
      "return out of for await": async (stream: AsyncIterable<number>) => {
        for await (const n of stream) if (n === 1) return;
      },
      "throw out of for await": async (stream: AsyncIterable<number>) => {
        try {
          for await (const n of stream) if (n === 1) throw new Error("consumer gave up");
        } catch (error) {
          expect((error as Error).message).toBe("consumer gave up");
        }
      },
    };

    for (const [way, leave] of Object.entries(ways)) {
      it(`${way} cancels the producer and waits for its cleanup, awaits included`, virtual(async () => {
        const log: string[] = [];
        const stream = await produce<number>(async (ctx) => {
          await ctx.started();
          try {
            for (let i = 0; ; i++) await ctx.send(i);
          } catch (error) {
            log.push(error instanceof Cancelled ? "producer cancelled" : "other");
            throw error;
          } finally {
            await hostDelay(2); // cleanup awaiting a foreign promise
            await moveOnAfter(1000, () => sleep(10), { shield: true }); // and Quartet, shielded
            log.push("cleanup finished");
          }
        });
        await leave(stream);
        expect(log).toEqual(["producer cancelled", "cleanup finished"]);
        await expect(stream.receive()).rejects.toBeInstanceOf(ClosedResourceError);
      }));
    }

    it("close() cancels the producer, waits for its cleanup, and can be called again", virtual(async () => {
      const log: string[] = [];
      const stream = await produce(counting(log));
      expect(await stream.receive()).toBe(0);
      await stream.close();
      expect(log.at(-1)).toBe("cleanup");
      await stream.close();
      await expect(stream.receive()).rejects.toThrow(/producer stream that was closed/);
    }));

    it("await using disposes of the stream the same way", virtual(async () => {
      const log: string[] = [];
      {
        await using stream = await produce(counting(log));
        await stream.receive();
      }
      expect(log.at(-1)).toBe("cleanup");
    }));

    it("closing waits for the cleanup even when the caller's own scope is cancelled, and returns normally", virtual(async () => {
      const log: string[] = [];
      const scope = new CancelScope();
      await scope.run(async () => {
        const stream = await produce<number>(async (ctx) => {
          await ctx.started();
          try {
            await ctx.send(1);
          } finally {
            await hostDelay(2);
            log.push("cleanup finished");
          }
        });
        await stream.receive();
        scope.cancel();
        await stream.close(); // not a checkpoint: no Cancelled here
        log.push("close returned");
      });
      expect(log).toEqual(["cleanup finished", "close returned"]);
    }));

    it("a send() whose value was taken throws Cancelled when the stream is closed", virtual(async () => {
      let sendError: unknown;
      const stream = await produce<string>(async (ctx) => {
        await ctx.started();
        try {
          await ctx.send("delivered");
        } catch (error) {
          sendError = error;
          throw error;
        }
      });
      expect(await stream.receive()).toBe("delivered");
      await stream.close();
      expect(sendError).toBeInstanceOf(Cancelled);
    }));

    it("close() throws an error the producer failed with that the consumer has not seen", virtual(async () => {
      const error = new Error("cleanup failed");
      const stream = await produce<number>(async (ctx) => {
        await ctx.started();
        try {
          await ctx.send(1);
        } finally {
          throw error;
        }
      });
      await stream.receive();
      await expect(stream.close()).rejects.toBe(error);
    }));
  });

  it("is cancelled along with the scope that called produce()", virtual(async () => {
    const log: string[] = [];
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      await scope.run(async () => {
        const stream = await produce(counting(log));
        await stream.receive();
        tg.spawn(async () => {
          await sleep(5);
          scope.cancel();
        });
        await sleepForever();
      });
    });
    expect(scope.cancelledCaught).toBe(true);
    expect(log.at(-1)).toBe("cleanup");
  }));

  it("a receive() cancelled while waiting consumed nothing: the value goes to the next receive()", virtual(async () => {
    let computed = 0;
    await using stream = await produce<number>(async (ctx) => {
      await ctx.started();
      for (let i = 0; ; i++) {
        await sleep(10); // slow to compute
        computed++;
        await ctx.send(i);
      }
    });
    expect(await moveOnAfter(5, () => stream.receive())).toBeUndefined();
    expect(await stream.receive()).toBe(0);
    expect(await stream.receive()).toBe(1);
    await waitAllTasksBlocked();
    expect(computed).toBe(2); // the cancelled receive did not make the producer run further ahead
  }));

  it("leaves no task, deadline or timer behind once closed", virtual(async () => {
    const before = currentStatistics();
    const stream = await produce<number>(async (ctx) => {
      await ctx.started();
      for (let i = 0; ; i++) await moveOnAfter(1000, () => ctx.send(i));
    });
    await stream.receive();
    expect(currentStatistics().tasksLiving).toBeGreaterThan(before.tasksLiving);
    await stream.close();
    await checkpoint();
    expect(currentStatistics()).toMatchObject({ tasksLiving: before.tasksLiving, deadlines: 0 });
  }));

  it("in lockstep with its consumer, lets the event loop run (a host callback is not starved)", async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await using numbers = await produce<number>(async ({ send }) => {
      for (let i = 0; ; i++) await send(i);
    });
    let received = 0;
    for await (const _ of numbers) {
      if (ran) break;
      if (++received > 100_000) throw new Error("100,000 values went by and the event loop never ran");
    }
    expect(ran).toBe(true);
  });

  it("cancels the producer of a stream that is garbage-collected without being closed", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, "the core test project runs with --expose-gc").toBeTypeOf("function");
    const log: string[] = [];
    let finished!: () => void;
    const cleanedUp = new Promise<void>((resolve) => (finished = resolve));
    await (async () => {
      const stream = await produce<number>(async (ctx) => {
        await ctx.started();
        try {
          await ctx.send(1);
        } finally {
          log.push("producer cleaned up");
          finished();
        }
      });
      await stream.receive();
    })();
    for (let i = 0; i < 20 && log.length === 0; i++) {
      gc!();
      await hostDelay(5);
    }
    await cleanedUp;
    expect(log).toEqual(["producer cleaned up"]);
  });

  it("rejects bad arguments", async () => {
    await expect(produce("x" as never)).rejects.toThrow(/produce\(\) producer must be a function/);
    await expect(produce(async () => {}, { buffer: -1 })).rejects.toThrow(RangeError);
    await expect(produce(async () => {}, { buffer: "1" as never })).rejects.toThrow(TypeError);
    await expect(produce(async () => {}, { name: 3 as never })).rejects.toThrow(TypeError);
  });
});
