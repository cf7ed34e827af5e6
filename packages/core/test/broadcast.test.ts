import { describe, expect, it } from "vitest";
import {
  BrokenResourceError,
  CancelScope,
  Cancelled,
  ClosedResourceError,
  EndOfChannel,
  WouldBlock,
  checkpoint,
  moveOnAfter,
  openBroadcastChannel,
  taskGroup,
  type BroadcastSubscription,
  type SendManyPromise,
} from "../src/index.js";
import { formatTaskTree } from "../src/lowlevel.js";
import { virtual, waitAllTasksBlocked } from "./virtual-time.js";

/** Everything a subscription holds now, without waiting. */
function drain<T>(subscription: BroadcastSubscription<T>): T[] {
  const values: T[] = [];
  for (;;) {
    try {
      values.push(subscription.receiveNowait());
    } catch (error) {
      if (error instanceof WouldBlock || error instanceof EndOfChannel) return values;
      throw error;
    }
  }
}

describe("openBroadcastChannel", () => {
  it("gives every subscriber every value sent, in order", virtual(async () => {
    const bus = openBroadcastChannel<number>(10);
    const a = bus.subscribe();
    const b = bus.subscribe();
    for (let i = 0; i < 5; i++) await bus.send(i);
    expect(drain(a)).toEqual([0, 1, 2, 3, 4]);
    expect(await b.receive()).toBe(0);
    expect(drain(b)).toEqual([1, 2, 3, 4]);
  }));

  it("with no subscribers, send() delivers to nobody and succeeds", virtual(async () => {
    const bus = openBroadcastChannel<string>(1);
    await bus.send("to nobody");
    await bus.send("still nobody"); // no buffer fills up: there is none
    bus.sendNowait("nor here");
    expect(bus.statistics()).toMatchObject({ subscribers: 0, valuesSent: 3, tasksWaitingSend: 0 });
  }));

  it("a late subscriber sees only the values sent after it subscribed", virtual(async () => {
    const bus = openBroadcastChannel<number>(Infinity);
    const early = bus.subscribe();
    await bus.send(1);
    const late = bus.subscribe();
    await bus.send(2);
    bus.close();
    expect(drain(early)).toEqual([1, 2]);
    const got: number[] = [];
    for await (const value of late) got.push(value);
    expect(got).toEqual([2]);
  }));

  it("hands a value straight to a subscriber's waiting receiver", virtual(async () => {
    const bus = openBroadcastChannel<string>(1);
    const a = bus.subscribe();
    const b = bus.subscribe();
    const got: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => void got.push(`a: ${await a.receive()}`));
      await waitAllTasksBlocked();
      bus.sendNowait("hi");
      expect(a.statistics().currentBufferUsed).toBe(0); // given to the receiver, not buffered
      expect(b.statistics().currentBufferUsed).toBe(1);
    });
    expect(got).toEqual(["a: hi"]);
  }));

  it("carries undefined as a value like any other", virtual(async () => {
    const bus = openBroadcastChannel<undefined>(2);
    const sub = bus.subscribe();
    await bus.send(undefined);
    bus.close();
    expect(await sub.receive()).toBeUndefined();
    await expect(sub.receive()).rejects.toBeInstanceOf(EndOfChannel);
  }));

  describe('whenFull: "wait"', () => {
    it("makes the sender wait until every subscriber has room: the slowest sets the pace", virtual(async () => {
      const bus = openBroadcastChannel<number>(2);
      const fast = bus.subscribe();
      const slow = bus.subscribe();
      let sent = 0;
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          for (let i = 0; i < 5; i++) {
            await bus.send(i);
            sent++;
          }
        });
        tg.spawn(async () => {
          for await (const _ of fast); // keeps up
        });
        await waitAllTasksBlocked();
        expect(sent).toBe(2); // slow's buffer is full
        expect(bus.statistics()).toMatchObject({ tasksWaitingSend: 1, currentBufferUsed: 2 });
        expect(await slow.receive()).toBe(0);
        await waitAllTasksBlocked();
        expect(sent).toBe(3);
        expect(drain(slow)).toEqual([1, 2, 3]); // taking them lets the sender go on
        await waitAllTasksBlocked();
        expect(sent).toBe(5);
        expect(drain(slow)).toEqual([4]);
        bus.close();
      });
    }));

    it("a sender cancelled while waiting delivered its value to no subscriber", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const ready = bus.subscribe();
      const full = bus.subscribe();
      await bus.send("first");
      expect(ready.receiveNowait()).toBe("first"); // `ready` has room, `full` has none
      expect(await moveOnAfter(10, () => bus.send("lost"))).toBeUndefined();
      expect(bus.statistics().tasksWaitingSend).toBe(0);
      expect(drain(ready)).toEqual([]); // all or nothing: not even the subscriber with room got it
      expect(drain(full)).toEqual(["first"]);
      await bus.send("next");
      expect(drain(ready)).toEqual(["next"]);
      expect(drain(full)).toEqual(["next"]);
    }));

    it("serves waiting senders in FIFO order", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const sub = bus.subscribe();
      await bus.send("0");
      await taskGroup(async (tg) => {
        for (const name of ["a", "b", "c"]) {
          tg.spawn(() => bus.send(name));
          await waitAllTasksBlocked();
        }
        const got: string[] = [];
        for (let i = 0; i < 4; i++) got.push(await sub.receive());
        expect(got).toEqual(["0", "a", "b", "c"]);
      });
    }));

    it("a new sender does not overtake one that waits, even with sendNowait()", virtual(async () => {
      const bus = openBroadcastChannel<number>(1);
      const sub = bus.subscribe();
      bus.sendNowait(1);
      expect(() => bus.sendNowait(2)).toThrow(/sendNowait\(\) would block: a subscriber's buffer is full \(1 values\)/);
      await taskGroup(async (tg) => {
        tg.spawn(() => bus.send(2));
        await waitAllTasksBlocked();
        expect(sub.receiveNowait()).toBe(1); // makes room: the waiting sender's 2 moves in at once
        expect(() => bus.sendNowait(3)).toThrow(WouldBlock);
        expect(sub.receiveNowait()).toBe(2);
      });
    }));

    it("closing the only full subscription wakes a waiting sender, which delivers to the others", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const active = bus.subscribe();
      const idle = bus.subscribe();
      await bus.send("x");
      active.receiveNowait();
      let returned = false;
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await bus.send("y");
          returned = true;
        });
        await waitAllTasksBlocked();
        expect(returned).toBe(false);
        idle.close();
        await waitAllTasksBlocked();
        expect(returned).toBe(true);
        expect(active.receiveNowait()).toBe("y");
      });
      expect(bus.statistics().subscribers).toBe(1);
    }));
  });

  describe('whenFull: "dropOldest"', () => {
    it("drops a full subscriber's oldest value, counting it; the sender never waits and order is kept", virtual(async () => {
      const bus = openBroadcastChannel<number>(3, { whenFull: "dropOldest" });
      const slow = bus.subscribe();
      const fast = bus.subscribe();
      const fastGot: number[] = [];
      for (let i = 1; i <= 7; i++) {
        await bus.send(i);
        fastGot.push(...drain(fast));
      }
      expect(fastGot).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(slow.statistics()).toMatchObject({ currentBufferUsed: 3, dropped: 4 });
      expect(fast.statistics().dropped).toBe(0);
      expect(drain(slow)).toEqual([5, 6, 7]);
      bus.sendNowait(8); // never WouldBlock
      expect(drain(slow)).toEqual([8]);
    }));
  });

  describe('whenFull: "fail"', () => {
    it("unsubscribes a subscriber that falls behind: it receives its buffer, then BrokenResourceError every time", virtual(async () => {
      const bus = openBroadcastChannel<number>(2, { whenFull: "fail" });
      const laggard = bus.subscribe({ name: "laggard" });
      const keeper = bus.subscribe();
      for (let i = 1; i <= 4; i++) {
        await bus.send(i); // never waits
        expect(keeper.receiveNowait()).toBe(i);
      }
      expect(bus.statistics().subscribers).toBe(1);
      expect(await laggard.receive()).toBe(1);
      expect(laggard.receiveNowait()).toBe(2);
      await expect(laggard.receive()).rejects.toThrow(BrokenResourceError);
      await expect(laggard.receive()).rejects.toThrow(/fell behind .*buffer of 2 values was full/);
      expect(() => laggard.receiveNowait()).toThrow(BrokenResourceError);
      await expect(laggard.receiveMany(5)).rejects.toThrow(BrokenResourceError);
      bus.close(); // the end does not hide why it stopped
      await expect(laggard.receive()).rejects.toThrow(BrokenResourceError);
      await expect(keeper.receive()).rejects.toThrow(EndOfChannel);
    }));

    it("a for-await loop over a subscription that fell behind throws instead of ending quietly", virtual(async () => {
      const bus = openBroadcastChannel<number>(1, { whenFull: "fail" });
      const sub = bus.subscribe();
      bus.sendNowait(1);
      bus.sendNowait(2);
      const got: number[] = [];
      await expect((async () => {
        for await (const value of sub) got.push(value);
      })()).rejects.toBeInstanceOf(BrokenResourceError);
      expect(got).toEqual([1]);
    }));
  });

  describe("clones", () => {
    it("a clone of the send handle sends to the same subscribers; the channel ends when every clone is closed", virtual(async () => {
      const bus = openBroadcastChannel<string>(5);
      const sub = bus.subscribe();
      const clone = bus.clone();
      expect(bus.statistics().openSendChannels).toBe(2);
      bus.close();
      await clone.send("still open");
      const fromClone = clone.subscribe(); // a clone can subscribe too
      await clone.send("again");
      clone.close();
      expect(await sub.receive()).toBe("still open");
      expect(await sub.receive()).toBe("again");
      await expect(sub.receive()).rejects.toBeInstanceOf(EndOfChannel);
      expect(await fromClone.receive()).toBe("again");
      await expect(fromClone.receive()).rejects.toBeInstanceOf(EndOfChannel);
    }));

    it("clones of a subscription share its values: each value goes to one of them", virtual(async () => {
      const bus = openBroadcastChannel<number>(Infinity);
      const sub = bus.subscribe();
      const clone = sub.clone();
      for (let i = 0; i < 4; i++) bus.sendNowait(i);
      expect([sub.receiveNowait(), clone.receiveNowait(), sub.receiveNowait(), clone.receiveNowait()]).toEqual([0, 1, 2, 3]);
      expect(sub.statistics().openReceiveChannels).toBe(2);
    }));

    it("a subscription is unsubscribed only when every clone of it is closed", virtual(async () => {
      const bus = openBroadcastChannel<number>(1);
      const sub = bus.subscribe();
      const clone = sub.clone();
      sub.close();
      expect(bus.statistics().subscribers).toBe(1);
      await bus.send(1);
      expect(clone.receiveNowait()).toBe(1);
      clone.close();
      expect(bus.statistics()).toMatchObject({ subscribers: 0, openReceiveChannels: 0 });
      await bus.send(2); // nobody left to wait for
      expect(() => clone.receiveNowait()).toThrow(ClosedResourceError);
    }));
  });

  describe("closing", () => {
    it("after the last send handle is closed, each subscriber drains its buffer and then gets EndOfChannel", virtual(async () => {
      const bus = openBroadcastChannel<number>(5);
      const a = bus.subscribe();
      const b = bus.subscribe();
      await bus.send(1);
      await bus.send(2);
      bus.close();
      expect(await a.receive()).toBe(1);
      expect(a.receiveNowait()).toBe(2);
      await expect(a.receive()).rejects.toThrow(/every send handle of the broadcast channel is closed/);
      expect(() => a.receiveNowait()).toThrow(EndOfChannel);
      await expect(a.receiveMany(3)).rejects.toBeInstanceOf(EndOfChannel);
      const got: number[] = [];
      for await (const value of b) got.push(value);
      expect(got).toEqual([1, 2]);
    }));

    it("wakes receivers already waiting when the last send handle closes: EndOfChannel, or the end of a for-await loop", virtual(async () => {
      const bus = openBroadcastChannel<number>(1);
      const a = bus.subscribe();
      const b = bus.subscribe();
      const log: string[] = [];
      await taskGroup(async (tg) => {
        tg.spawn(() => a.receive().catch((e: Error) => void log.push(`a: ${e.name}`)));
        tg.spawn(async () => {
          for await (const _ of b);
          log.push("b: loop ended");
        });
        await waitAllTasksBlocked();
        bus.close();
      });
      expect(log.sort()).toEqual(["a: EndOfChannel", "b: loop ended"]);
    }));

    it("makes a closed send handle's own calls throw ClosedResourceError; close() is idempotent", virtual(async () => {
      const bus = openBroadcastChannel<number>(1);
      const other = bus.clone();
      bus.close();
      bus.close();
      await expect(bus.send(1)).rejects.toThrow(/send\(\) on a broadcast channel that was closed/);
      expect(() => bus.sendNowait(1)).toThrow(ClosedResourceError);
      await expect(bus.sendMany([1])).rejects.toBeInstanceOf(ClosedResourceError);
      expect(() => bus.subscribe()).toThrow(/subscribe\(\) on a broadcast channel that was closed/);
      expect(() => bus.clone()).toThrow(ClosedResourceError);
      expect(bus.statistics().openSendChannels).toBe(1);
      other.subscribe(); // an open handle still can
    }));

    it("wakes the senders waiting on a handle with ClosedResourceError when it is closed, and only those", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const clone = bus.clone();
      const sub = bus.subscribe();
      bus.sendNowait("full");
      const log: string[] = [];
      await taskGroup(async (tg) => {
        tg.spawn(() => bus.send("original").then(() => log.push("original sent"), (e: Error) => log.push(`original: ${e.name}`)));
        tg.spawn(() => clone.send("clone").then(() => log.push("clone sent")));
        await waitAllTasksBlocked();
        bus.close();
        await waitAllTasksBlocked();
        expect(sub.receiveNowait()).toBe("full");
      });
      expect(log).toEqual(["original: ClosedResourceError", "clone sent"]);
      expect(drain(sub)).toEqual(["clone"]);
    }));

    it("makes a closed subscription's calls, and the receives waiting on it, throw ClosedResourceError", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const sub = bus.subscribe();
      const clone = sub.clone();
      const log: string[] = [];
      await taskGroup(async (tg) => {
        tg.spawn(() => sub.receive().catch((e: Error) => void log.push(`sub: ${e.name}`)));
        tg.spawn(async () => void log.push(`clone got ${await clone.receive()}`));
        await waitAllTasksBlocked();
        sub.close();
        sub.close(); // idempotent
        await waitAllTasksBlocked();
        await bus.send("value");
      });
      expect(log).toEqual(["sub: ClosedResourceError", "clone got value"]);
      await expect(sub.receive()).rejects.toThrow(/receive\(\) on a broadcast subscription that was closed/);
      await expect(sub.receiveMany(2)).rejects.toBeInstanceOf(ClosedResourceError);
      expect(() => sub.receiveNowait()).toThrow(ClosedResourceError);
      expect(() => sub.clone()).toThrow(ClosedResourceError);
    }));

    it("closes on dispose and on async dispose", virtual(async () => {
      const bus = openBroadcastChannel<number>(1);
      {
        using sub = bus.subscribe();
        expect(bus.statistics().subscribers).toBe(1);
        expect(sub.statistics().openReceiveChannels).toBe(1);
      }
      expect(bus.statistics().subscribers).toBe(0);
      {
        await using sub = bus.subscribe();
        bus.sendNowait(1);
        expect(sub.statistics().currentBufferUsed).toBe(1);
      }
      expect(bus.statistics().subscribers).toBe(0);
      const clone = bus.clone();
      {
        using tx = bus;
        expect(tx.statistics().openSendChannels).toBe(2);
      }
      {
        await using tx = clone;
        expect(tx.statistics().openSendChannels).toBe(1);
      }
      expect(bus.statistics().openSendChannels).toBe(0);
    }));

    it("does not close a subscription when a for-await loop over it is left early", virtual(async () => {
      const bus = openBroadcastChannel<number>(Infinity);
      const sub = bus.subscribe();
      for (let i = 0; i < 4; i++) bus.sendNowait(i);
      for await (const value of sub) if (value === 1) break;
      expect(bus.statistics().subscribers).toBe(1);
      expect(await sub.receive()).toBe(2);
    }));
  });

  describe("receiveMany", () => {
    it("waits for the first value, then takes what else is buffered, up to max", virtual(async () => {
      const bus = openBroadcastChannel<number>(Infinity);
      const sub = bus.subscribe();
      await taskGroup(async (tg) => {
        tg.spawn(async () => expect(await sub.receiveMany(10)).toEqual([1])); // parked: gets the one value handed to it
        await waitAllTasksBlocked();
        bus.sendNowait(1);
      });
      for (let i = 2; i <= 6; i++) bus.sendNowait(i);
      expect(await sub.receiveMany(3)).toEqual([2, 3, 4]);
      expect(await sub.receiveMany(Infinity)).toEqual([5, 6]);
      bus.sendNowait(7);
      expect(await sub.receiveMany(undefined as unknown as number)).toEqual([7]); // like receiveMany(Infinity)
    }));

    it("also takes the value of a sender that was waiting for the room it makes", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const sub = bus.subscribe();
      await bus.send("a");
      await taskGroup(async (tg) => {
        tg.spawn(() => bus.send("b"));
        await waitAllTasksBlocked();
        expect(await sub.receiveMany(5)).toEqual(["a", "b"]);
      });
    }));

    it("cancelled while it waits, it took nothing", virtual(async () => {
      const bus = openBroadcastChannel<number>(4);
      const sub = bus.subscribe();
      expect(await moveOnAfter(10, () => sub.receiveMany(4))).toBeUndefined();
      expect(sub.statistics().tasksWaitingReceive).toBe(0);
      await bus.send(1);
      await bus.send(2);
      const scope = new CancelScope();
      await scope.run(async () => {
        scope.cancel();
        await expect(sub.receiveMany(4)).rejects.toBeInstanceOf(Cancelled);
      });
      expect(await sub.receiveMany(4)).toEqual([1, 2]);
    }));

    it("rejects a max that is not a positive integer or Infinity", virtual(async () => {
      const sub = openBroadcastChannel<number>(1).subscribe();
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        await expect(sub.receiveMany(bad)).rejects.toThrow(RangeError);
      }
      await expect(sub.receiveMany(0)).rejects.toThrow(/receiveMany\(\) max must be a positive integer or Infinity; got 0/);
      await expect(sub.receiveMany("3" as never)).rejects.toThrow(/receiveMany\(\) max must be a number; got "3"/);
    }));
  });

  describe("sendMany", () => {
    it("sends the values in order, each to every subscriber; delivered counts them", virtual(async () => {
      const bus = openBroadcastChannel<number>(Infinity);
      const a = bus.subscribe();
      const b = bus.subscribe();
      const sending = bus.sendMany(new Set([1, 2, 3]));
      expect(sending.delivered).toBe(3); // none had to wait
      await sending;
      expect(drain(a)).toEqual([1, 2, 3]);
      expect(drain(b)).toEqual([1, 2, 3]);
      await bus.sendMany([]);
    }));

    it("waits like send() under \"wait\", and lets other senders take their turn", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const sub = bus.subscribe();
      let sending: SendManyPromise | undefined;
      await taskGroup(async (tg) => {
        tg.spawn(() => (sending = bus.sendMany(["a1", "a2", "a3"])));
        await waitAllTasksBlocked();
        tg.spawn(() => bus.send("b"));
        await waitAllTasksBlocked();
        expect(sending!.delivered).toBe(1);
        const got: string[] = [];
        for (let i = 0; i < 4; i++) got.push(await sub.receive());
        expect(got).toEqual(["a1", "a2", "b", "a3"]); // FIFO among waiting senders, value by value
        expect(sending!.delivered).toBe(3);
      });
    }));

    it("cancelled while it waits, delivered says how many values went out, and the rest reached nobody", virtual(async () => {
      const bus = openBroadcastChannel<number>(2);
      const sub = bus.subscribe();
      let closed = false;
      function* numbers(): Generator<number> {
        try {
          for (let i = 1; ; i++) yield i;
        } finally {
          closed = true;
        }
      }
      let sending: SendManyPromise | undefined;
      const result = await moveOnAfter(10, () => (sending = bus.sendMany(numbers())));
      expect(result).toBeUndefined();
      if (sending === undefined) throw new Error("sendMany() was not called");
      await expect(sending).rejects.toBeInstanceOf(Cancelled);
      expect(sending.delivered).toBe(2);
      expect(closed).toBe(true); // the iterator was closed, as a for-of loop would
      expect(drain(sub)).toEqual([1, 2]);
      expect(bus.statistics().tasksWaitingSend).toBe(0);
    }));

    it("is a checkpoint: in a cancelled scope it sends nothing", virtual(async () => {
      const bus = openBroadcastChannel<number>(Infinity);
      const sub = bus.subscribe();
      const scope = new CancelScope();
      await scope.run(async () => {
        scope.cancel();
        const sending = bus.sendMany([1, 2]);
        await expect(sending).rejects.toBeInstanceOf(Cancelled);
        expect(sending.delivered).toBe(0);
      });
      expect(drain(sub)).toEqual([]);
    }));

    it("stops with the error of an iterable that throws, having sent the values before it", virtual(async () => {
      const bus = openBroadcastChannel<number>(Infinity);
      const sub = bus.subscribe();
      function* broken(): Generator<number> {
        yield 1;
        yield 2;
        throw new Error("source broke");
      }
      const sending = bus.sendMany(broken());
      await expect(sending).rejects.toThrow("source broke");
      expect(sending.delivered).toBe(2);
      expect(drain(sub)).toEqual([1, 2]);
    }));

    it("stops with ClosedResourceError when its handle is closed while it waits", virtual(async () => {
      const bus = openBroadcastChannel<number>(1);
      const keep = bus.clone();
      const sub = bus.subscribe();
      let sending: SendManyPromise | undefined;
      await taskGroup(async (tg) => {
        tg.spawn(() => expect((sending = bus.sendMany([1, 2, 3]))).rejects.toBeInstanceOf(ClosedResourceError));
        await waitAllTasksBlocked();
        bus.close();
      });
      expect(sending!.delivered).toBe(1);
      expect(drain(sub)).toEqual([1]);
      keep.close();
    }));

    it("rejects what is not iterable with a TypeError", virtual(async () => {
      const bus = openBroadcastChannel<number>(1);
      await expect(bus.sendMany(5 as never)).rejects.toThrow(/sendMany\(\) values must be an iterable; got 5/);
      await expect(bus.sendMany(null as never)).rejects.toThrow(TypeError);
    }));
  });

  describe("cancellation", () => {
    it("send() is a checkpoint: in a cancelled scope it rejects with Cancelled and delivers nothing", virtual(async () => {
      const bus = openBroadcastChannel<number>(Infinity);
      const sub = bus.subscribe();
      const scope = new CancelScope();
      await scope.run(async () => {
        scope.cancel();
        await expect(bus.send(1)).rejects.toBeInstanceOf(Cancelled);
        await expect(sub.receive()).rejects.toBeInstanceOf(Cancelled);
      });
      expect(bus.statistics().valuesSent).toBe(0);
      expect(drain(sub)).toEqual([]);
    }));

    it("a subscriber cancelled while waiting in receive() loses nothing", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const sub = bus.subscribe();
      expect(await moveOnAfter(10, () => sub.receive())).toBeUndefined();
      expect(sub.statistics().tasksWaitingReceive).toBe(0);
      await bus.send("kept");
      expect(await sub.receive()).toBe("kept");
    }));

    it("a value handed to a receiver is received even if its scope is cancelled right after", virtual(async () => {
      const bus = openBroadcastChannel<string>(1);
      const sub = bus.subscribe();
      const scope = new CancelScope();
      let got: string | undefined;
      await taskGroup(async (tg) => {
        tg.spawn(() =>
          scope.run(async () => {
            got = await sub.receive();
            await checkpoint();
          }),
        );
        await waitAllTasksBlocked();
        bus.sendNowait("delivered");
        scope.cancel();
      });
      expect(got).toBe("delivered");
    }));
  });

  describe("bad arguments", () => {
    it("rejects a maxBufferSize that is not a positive integer or Infinity", () => {
      for (const bad of [0, -1, 1.5, Number.NaN, -Infinity]) expect(() => openBroadcastChannel(bad)).toThrow(RangeError);
      expect(() => openBroadcastChannel(0)).toThrow(/openBroadcastChannel\(\) maxBufferSize must be a positive integer or Infinity .*got 0/);
      expect(() => openBroadcastChannel("4" as never)).toThrow(/maxBufferSize must be a number; got "4"/);
      expect(() => openBroadcastChannel(undefined as never)).toThrow(TypeError);
    });

    it("rejects a whenFull that is not one of the three policies, listing them", () => {
      expect(() => openBroadcastChannel(1, { whenFull: "drop" as never })).toThrow(RangeError);
      expect(() => openBroadcastChannel(1, { whenFull: "drop" as never })).toThrow(/whenFull must be "wait", "dropOldest" or "fail"; got "drop"/);
      expect(() => openBroadcastChannel(1, { whenFull: 3 as never })).toThrow(TypeError);
      expect(() => openBroadcastChannel(1, { whenFull: null as never })).toThrow(/got null/);
    });

    it("rejects options that are not an object, and a name that is not a string", () => {
      expect(() => openBroadcastChannel(1, "fast" as never)).toThrow(/openBroadcastChannel\(\) options must be an object/);
      expect(() => openBroadcastChannel(1, { name: 7 as never })).toThrow(/openBroadcastChannel\(\) name must be a string/);
      expect(() => openBroadcastChannel(1).subscribe({ name: 7 as never })).toThrow(/subscribe\(\) name must be a string/);
    });
  });

  it("reports statistics as frozen records: the channel's over all subscribers, a subscription's for itself", virtual(async () => {
    const bus = openBroadcastChannel<number>(8, { whenFull: "dropOldest" });
    const behind = bus.subscribe();
    const ahead = bus.subscribe();
    ahead.clone();
    for (let i = 0; i < 10; i++) bus.sendNowait(i);
    drain(ahead);
    const stats = bus.statistics();
    expect(stats).toEqual({
      subscribers: 2,
      currentBufferUsed: 8,
      maxBufferSize: 8,
      whenFull: "dropOldest",
      openSendChannels: 1,
      openReceiveChannels: 3,
      tasksWaitingSend: 0,
      tasksWaitingReceive: 0,
      valuesSent: 10,
    });
    expect(Object.isFrozen(stats)).toBe(true);
    const mine = behind.statistics();
    expect(mine).toEqual({
      currentBufferUsed: 8,
      maxBufferSize: 8,
      openSendChannels: 1,
      openReceiveChannels: 1,
      tasksWaitingSend: 0,
      tasksWaitingReceive: 0,
      dropped: 2,
    });
    expect(Object.isFrozen(mine)).toBe(true);
    expect(openBroadcastChannel(1).statistics().whenFull).toBe("wait");
  }));

  it("shows tasks blocked in a broadcast send or receive in the task tree", virtual(async () => {
    const bus = openBroadcastChannel<number>(1, { name: "ticks" });
    const idle = bus.subscribe(); // named after the channel
    const audit = bus.subscribe({ name: "audit" });
    bus.sendNowait(1);
    audit.receiveNowait(); // `idle` stays full
    await taskGroup(async (tg) => {
      tg.spawn(() => bus.send(2), { name: "ticker" });
      await waitAllTasksBlocked();
      tg.spawn(() => audit.receive(), { name: "auditor" });
      await waitAllTasksBlocked();
      const text = formatTaskTree();
      expect(text).toMatch(/task "ticker" — blocked: send on broadcast channel "ticks"/);
      expect(text).toMatch(/task "auditor" — blocked: receive on broadcast subscription "audit"/);
      expect(idle.statistics().currentBufferUsed).toBe(1); // the one the ticker waits on
      tg.cancelScope.cancel();
    });
  }));

  it("works outside any run()", async () => {
    const bus = openBroadcastChannel<string>(1);
    const sub = bus.subscribe();
    const receiving = sub.receive();
    await bus.send("plain");
    expect(await receiving).toBe("plain");
    await bus.send("buffered");
    const sending = bus.send("waits");
    expect(bus.statistics().tasksWaitingSend).toBe(1);
    expect(await sub.receiveMany(5)).toEqual(["buffered", "waits"]);
    await sending;
    bus.close();
    await expect(sub.receive()).rejects.toBeInstanceOf(EndOfChannel);
  });
});
