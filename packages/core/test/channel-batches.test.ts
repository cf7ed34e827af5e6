import { describe, expect, it } from "vitest";
import {
  BrokenResourceError,
  CancelScope,
  Cancelled,
  ClosedResourceError,
  EndOfChannel,
  moveOnAfter,
  now,
  openMemoryChannel,
  sleep,
  taskGroup,
  type SendManyPromise,
} from "../src/index.js";
import { currentCheckpointCount } from "../src/lowlevel.js";
import { virtual, waitAllTasksBlocked } from "./virtual-time.js";

describe("receiveMany", () => {
  it("takes what is buffered, up to max, in order", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    for (let i = 0; i < 5; i++) send.sendNowait(i);
    expect(await receive.receiveMany(3)).toEqual([0, 1, 2]);
    expect(await receive.receiveMany(Infinity)).toEqual([3, 4]);
    expect(receive.statistics().currentBufferUsed).toBe(0);
  }));

  it("also takes the values of waiting senders, refilling the buffer from them in FIFO order", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(1);
    await taskGroup(async (tg) => {
      for (let i = 0; i < 4; i++) tg.spawn(() => send.send(i));
      await waitAllTasksBlocked(); // 0 buffered, 1, 2, 3 waiting
      expect(send.statistics().tasksWaitingSend).toBe(3);
      expect(await receive.receiveMany(10)).toEqual([0, 1, 2, 3]);
    });
  }));

  it("with buffer 0, takes from waiting senders (a rendezvous batch)", virtual(async () => {
    const [send, receive] = openMemoryChannel<string>(0);
    await taskGroup(async (tg) => {
      tg.spawn(() => send.send("a"));
      tg.spawn(() => send.send("b"));
      await waitAllTasksBlocked();
      expect(await receive.receiveMany(5)).toEqual(["a", "b"]);
    });
  }));

  it("waits for the first value, then takes what was sent with it in the same turn", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(100);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await sleep(10);
        for (let i = 0; i < 5; i++) send.sendNowait(i); // the first is handed to the waiting receiver
      });
      const batch = await receive.receiveMany(4);
      expect(batch).toEqual([0, 1, 2, 3]);
      expect(now()).toBe(10);
      expect(await receive.receiveMany(4)).toEqual([4]);
    });
  }));

  it("ends like receive(): the buffer first, then EndOfChannel", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    send.sendNowait(1);
    send.sendNowait(2);
    send.close();
    expect(await receive.receiveMany(10)).toEqual([1, 2]);
    await expect(receive.receiveMany(10)).rejects.toThrow(EndOfChannel);
  }));

  it("a receiveMany waiting when the last sender closes gets EndOfChannel", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await expect(receive.receiveMany(3)).rejects.toThrow(EndOfChannel);
      });
      await waitAllTasksBlocked();
      send.close();
    });
  }));

  it("cancelled while waiting, took nothing: the next value goes to the next receiver", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(0);
    await taskGroup(async (tg) => {
      const scope = new CancelScope();
      tg.spawn(() => scope.run(() => receive.receiveMany(10)));
      await waitAllTasksBlocked();
      scope.cancel();
      await waitAllTasksBlocked();
      expect(receive.statistics().tasksWaitingReceive).toBe(0);
      tg.spawn(() => send.send(7));
      expect(await receive.receiveMany(10)).toEqual([7]);
    });
  }));

  it("in a cancelled scope rejects with Cancelled and takes nothing, even when values are ready", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    send.sendNowait(1);
    await new CancelScope().run(async (scope) => {
      scope.cancel();
      await expect(receive.receiveMany(5)).rejects.toBeInstanceOf(Cancelled);
    });
    expect(receive.receiveNowait()).toBe(1);
  }));

  it("is a checkpoint, also when values are ready", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    send.sendNowait(1);
    const before = currentCheckpointCount();
    await receive.receiveMany(1);
    expect(currentCheckpointCount()).toBe(before + 1);
  }));

  it("on a closed end throws ClosedResourceError naming receiveMany()", virtual(async () => {
    const [, receive] = openMemoryChannel<number>(10);
    receive.close();
    await expect(receive.receiveMany(2)).rejects.toThrow(/receiveMany\(\) on a receive channel that was closed/);
    await expect(receive.receiveMany(2)).rejects.toBeInstanceOf(ClosedResourceError);
  }));

  it("takes whatever is ready when max is not given", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(Infinity);
    for (let i = 0; i < 1000; i++) send.sendNowait(i);
    expect(await receive.receiveMany()).toHaveLength(1000);
  }));

  it("rejects a max that is not a positive integer or Infinity, taking nothing", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    send.sendNowait(1);
    await expect(receive.receiveMany(0)).rejects.toThrow(new RangeError("receiveMany() max must be a positive integer or Infinity; got 0"));
    await expect(receive.receiveMany(-1)).rejects.toBeInstanceOf(RangeError);
    await expect(receive.receiveMany(1.5)).rejects.toBeInstanceOf(RangeError);
    await expect(receive.receiveMany(NaN)).rejects.toBeInstanceOf(RangeError);
    await expect(receive.receiveMany("3" as unknown as number)).rejects.toThrow(new TypeError('receiveMany() max must be a number; got "3"'));
    expect(receive.receiveNowait()).toBe(1);
  }));
});

describe("sendMany", () => {
  it("sends every value in order and resolves with all delivered", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(Infinity);
    const sending = send.sendMany([1, 2, 3]);
    await sending;
    expect(sending.delivered).toBe(3);
    expect(await receive.receiveMany(10)).toEqual([1, 2, 3]);
  }));

  it("waits for room value by value (backpressure), keeping order against other senders' values", virtual(async () => {
    const [send, receive] = openMemoryChannel<string>(1);
    const got: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await send.sendMany(["a1", "a2", "a3"]);
      });
      tg.spawn(async () => {
        await send.sendMany(["b1", "b2"]);
      });
      tg.spawn(async () => {
        for (let i = 0; i < 5; i++) {
          await sleep(1);
          got.push(await receive.receive());
        }
      });
    });
    expect(got.filter((v) => v.startsWith("a"))).toEqual(["a1", "a2", "a3"]);
    expect(got.filter((v) => v.startsWith("b"))).toEqual(["b1", "b2"]);
  }));

  it("reads the iterable only as values go out", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(0);
    const read: number[] = [];
    function* values(): Generator<number> {
      for (let i = 0; i < 3; i++) {
        read.push(i);
        yield i;
      }
    }
    await taskGroup(async (tg) => {
      tg.spawn(() => send.sendMany(values()));
      await waitAllTasksBlocked();
      expect(read).toEqual([0]);
      await receive.receive();
      await waitAllTasksBlocked();
      expect(read).toEqual([0, 1]);
      await receive.receiveMany(1);
      await receive.receive();
    });
    expect(read).toEqual([0, 1, 2]);
  }));

  it("cancelled while waiting, reports how many values went out; the rest were not sent", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(2);
    let sending: SendManyPromise | undefined;
    await moveOnAfter(10, async () => {
      sending = send.sendMany([1, 2, 3, 4]);
      await sending;
    });
    expect(sending!.delivered).toBe(2);
    await expect(sending).rejects.toBeInstanceOf(Cancelled);
    expect(send.statistics().tasksWaitingSend).toBe(0);
    expect(await receive.receiveMany(10)).toEqual([1, 2]);
  }));

  it("stops at a scope cancelled between two waits, even with a receiver ready for the next value", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(0);
    const scope = new CancelScope();
    let sending: SendManyPromise | undefined;
    let outcome: unknown = "pending";
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(async () => {
        sending = send.sendMany([1, 2, 3]);
        sending.then(() => (outcome = "sent all"), (error) => (outcome = error));
        await sending;
      }));
      await waitAllTasksBlocked();
      expect(receive.receiveNowait()).toBe(1); // wakes the sender...
      scope.cancel(); // ...which is cancelled before it goes on
      tg.spawn(async () => {
        // A receiver waits: value 2 could go to it, but the cancelled sendMany does not send it.
        await expect(receive.receive()).rejects.toBeInstanceOf(EndOfChannel);
      });
      await waitAllTasksBlocked();
      expect(outcome).toBeInstanceOf(Cancelled);
      expect(sending!.delivered).toBe(1);
      send.close();
    });
  }));

  it("in a cancelled scope sends nothing, even with room", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    await new CancelScope().run(async (scope) => {
      scope.cancel();
      const sending = send.sendMany([1]);
      await expect(sending).rejects.toBeInstanceOf(Cancelled);
      expect(sending.delivered).toBe(0);
    });
    expect(receive.statistics().currentBufferUsed).toBe(0);
  }));

  it("is one checkpoint however many values it sends without waiting", virtual(async () => {
    const [send] = openMemoryChannel<number>(Infinity);
    const before = currentCheckpointCount();
    await send.sendMany([1, 2, 3, 4, 5]);
    expect(currentCheckpointCount()).toBe(before + 1);
  }));

  it("stops with BrokenResourceError when the receivers all close meanwhile, reporting what went out", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(1);
    let sending: SendManyPromise | undefined;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        sending = send.sendMany([1, 2, 3]);
        await expect(sending).rejects.toBeInstanceOf(BrokenResourceError);
      });
      await waitAllTasksBlocked();
      receive.close();
    });
    expect(sending!.delivered).toBe(1);
  }));

  it("stops with ClosedResourceError when its own end is closed while it waits", virtual(async () => {
    const [send] = openMemoryChannel<number>(0);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        const sending = send.sendMany([1, 2]);
        await expect(sending).rejects.toThrow(ClosedResourceError);
        expect(sending.delivered).toBe(0);
      });
      await waitAllTasksBlocked();
      send.close();
    });
  }));

  it("throws what the iterable throws, after the values before it went out", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    function* values(): Generator<number> {
      yield 1;
      throw new Error("bad source");
    }
    const sending = send.sendMany(values());
    await expect(sending).rejects.toThrow("bad source");
    expect(sending.delivered).toBe(1);
    expect(receive.receiveNowait()).toBe(1);
  }));

  it("closes the iterable's iterator when it stops early", virtual(async () => {
    const [send] = openMemoryChannel<number>(0);
    let closed = false;
    function* values(): Generator<number> {
      try {
        yield 1;
        yield 2;
      } finally {
        closed = true;
      }
    }
    await moveOnAfter(5, () => send.sendMany(values()));
    expect(closed).toBe(true);
  }));

  it("rejects values that are not iterable with a TypeError, and a closed end with ClosedResourceError", virtual(async () => {
    const [send] = openMemoryChannel<number>(10);
    const bad = send.sendMany(42 as unknown as number[]);
    await expect(bad).rejects.toThrow(new TypeError("sendMany() values must be an iterable; got 42"));
    expect(bad.delivered).toBe(0);
    send.close();
    await expect(send.sendMany([1])).rejects.toThrow(/sendMany\(\) on a send channel that was closed/);
  }));

  it("with an empty iterable, is still a checkpoint and delivers nothing", virtual(async () => {
    const [send] = openMemoryChannel<number>(0);
    const before = currentCheckpointCount();
    const sending = send.sendMany([]);
    await sending;
    expect(sending.delivered).toBe(0);
    expect(currentCheckpointCount()).toBe(before + 1);
  }));
});

describe("batches end to end", () => {
  it("a pipeline moving batches delivers every value once, in order", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(16);
    const got: number[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using tx = send;
        const values = Array.from({ length: 1000 }, (_, i) => i);
        for (let i = 0; i < values.length; i += 37) await tx.sendMany(values.slice(i, i + 37));
      });
      tg.spawn(async () => {
        for (;;) {
          let batch: number[];
          try {
            batch = await receive.receiveMany(50);
          } catch (error) {
            if (error instanceof EndOfChannel) break;
            throw error;
          }
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(50);
          got.push(...batch);
        }
      });
    });
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  }));
});
