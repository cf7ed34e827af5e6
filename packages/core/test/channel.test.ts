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
  now,
  openMemoryChannel,
  sleep,
  taskGroup,
} from "../src/index.js";
import { virtual, waitAllTasksBlocked } from "./virtual-time.js";

describe("openMemoryChannel", () => {
  it("passes values in order from sender to receiver", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(Infinity);
    for (let i = 0; i < 5; i++) await send.send(i);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push(await receive.receive());
    expect(got).toEqual([0, 1, 2, 3, 4]);
  }));

  it("with buffer 0, makes send() wait until a receiver takes the value (rendezvous)", virtual(async () => {
    const [send, receive] = openMemoryChannel<string>();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await send.send("hello");
        log.push(`send returned at ${now()}`);
      });
      await sleep(100);
      log.push("receiving");
      log.push(`got ${await receive.receive()}`);
    });
    // The send returns only once the receiver took the value (which of the two resumes first is not specified).
    expect(log[0]).toBe("receiving");
    expect(log.slice(1).sort()).toEqual(["got hello", "send returned at 100"]);
  }));

  it("with buffer N, lets senders run N values ahead and then applies backpressure", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(2);
    let sent = 0;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        for (let i = 0; i < 5; i++) {
          await send.send(i);
          sent++;
        }
      });
      await waitAllTasksBlocked();
      expect(sent).toBe(2);
      expect(send.statistics()).toMatchObject({ currentBufferUsed: 2, tasksWaitingSend: 1 });
      expect(await receive.receive()).toBe(0); // frees a place: the waiting sender's value moves into the buffer
      await waitAllTasksBlocked();
      expect(sent).toBe(3);
      for (let i = 1; i < 5; i++) expect(await receive.receive()).toBe(i);
    });
  }));

  it("with buffer Infinity, never makes a sender wait", async () => {
    const [send] = openMemoryChannel<number>(Infinity);
    for (let i = 0; i < 10_000; i++) send.sendNowait(i);
    expect(send.statistics().currentBufferUsed).toBe(10_000);
  });

  it("carries undefined as a value like any other", virtual(async () => {
    const [send, receive] = openMemoryChannel<undefined>(1);
    await send.send(undefined);
    send.close();
    expect(await receive.receive()).toBeUndefined();
    await expect(receive.receive()).rejects.toBeInstanceOf(EndOfChannel);
  }));

  it("rejects a negative, NaN, fractional or non-number size", () => {
    expect(() => openMemoryChannel(-1)).toThrow(RangeError);
    expect(() => openMemoryChannel(Number.NaN)).toThrow(/0, a positive integer or Infinity; got NaN/);
    expect(() => openMemoryChannel(1.5)).toThrow(RangeError);
    expect(() => openMemoryChannel("4" as never)).toThrow(TypeError);
  });

  describe("sendNowait and receiveNowait", () => {
    it("throw WouldBlock when they would have to wait", () => {
      const [send, receive] = openMemoryChannel<number>(1);
      expect(() => receive.receiveNowait()).toThrow(WouldBlock);
      send.sendNowait(1);
      expect(() => send.sendNowait(2)).toThrow(/sendNowait\(\) would block: the buffer is full \(1 values\)/);
      expect(receive.receiveNowait()).toBe(1);
    });

    it("hand a value straight to a waiting task", virtual(async () => {
      const [send, receive] = openMemoryChannel<string>();
      await taskGroup(async (tg) => {
        tg.spawn(async () => expect(await receive.receive()).toBe("direct"));
        await waitAllTasksBlocked();
        send.sendNowait("direct");
      });
      await taskGroup(async (tg) => {
        tg.spawn(() => send.send("from a waiting sender"));
        await waitAllTasksBlocked();
        expect(receive.receiveNowait()).toBe("from a waiting sender");
      });
    }));
  });

  describe("closing", () => {
    it("after every send end is closed, receivers drain the buffer and then get EndOfChannel", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(5);
      await send.send(1);
      await send.send(2);
      send.close();
      expect(await receive.receive()).toBe(1);
      expect(receive.receiveNowait()).toBe(2);
      await expect(receive.receive()).rejects.toBeInstanceOf(EndOfChannel);
      expect(() => receive.receiveNowait()).toThrow(EndOfChannel);
    }));

    it("ends only when every clone of the send end is closed", virtual(async () => {
      const [send, receive] = openMemoryChannel<string>(5);
      const clone = send.clone();
      expect(send.statistics().openSendChannels).toBe(2);
      send.close();
      await clone.send("still open");
      expect(await receive.receive()).toBe("still open");
      clone.close();
      await expect(receive.receive()).rejects.toBeInstanceOf(EndOfChannel);
    }));

    it("wakes receivers already waiting with EndOfChannel when the last send end closes", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>();
      const errors: unknown[] = [];
      await taskGroup(async (tg) => {
        for (let i = 0; i < 2; i++) tg.spawn(() => receive.receive().catch((e: unknown) => void errors.push(e)));
        await waitAllTasksBlocked();
        send.close();
      });
      expect(errors).toHaveLength(2);
      for (const error of errors) expect(error).toBeInstanceOf(EndOfChannel);
    }));

    it("after every receive end is closed, senders get BrokenResourceError and the buffer is dropped", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(3);
      await send.send(1);
      await send.send(2);
      const clone = receive.clone();
      receive.close();
      await send.send(3); // one receive end is still open
      clone.close();
      expect(send.statistics()).toMatchObject({ currentBufferUsed: 0, openReceiveChannels: 0 });
      await expect(send.send(4)).rejects.toBeInstanceOf(BrokenResourceError);
      expect(() => send.sendNowait(4)).toThrow(/nobody would receive the value/);
    }));

    it("wakes senders already waiting with BrokenResourceError when the last receive end closes", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(1);
      await send.send(0);
      const errors: unknown[] = [];
      await taskGroup(async (tg) => {
        for (let i = 1; i <= 2; i++) tg.spawn(() => send.send(i).catch((e: unknown) => void errors.push(e)));
        await waitAllTasksBlocked();
        expect(send.statistics().tasksWaitingSend).toBe(2);
        receive.close();
      });
      expect(errors.map((e) => (e as Error).name)).toEqual(["BrokenResourceError", "BrokenResourceError"]);
    }));

    it("makes a closed end's own calls throw ClosedResourceError", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(1);
      send.close();
      receive.close();
      await expect(send.send(1)).rejects.toThrow(/send\(\) on a send channel that was closed/);
      expect(() => send.sendNowait(1)).toThrow(ClosedResourceError);
      await expect(receive.receive()).rejects.toThrow(/receive\(\) on a receive channel that was closed/);
      expect(() => receive.receiveNowait()).toThrow(ClosedResourceError);
      expect(() => send.clone()).toThrow(ClosedResourceError);
      expect(() => receive.clone()).toThrow(ClosedResourceError);
      send.close(); // idempotent
      receive.close();
    }));

    it("wakes the tasks waiting on a handle with ClosedResourceError when that handle is closed, and only those", virtual(async () => {
      const [send, receive] = openMemoryChannel<string>();
      const clone = receive.clone();
      const log: string[] = [];
      await taskGroup(async (tg) => {
        tg.spawn(() => receive.receive().then((v) => log.push(`original got ${v}`), (e: Error) => log.push(`original: ${e.name}`)));
        tg.spawn(() => clone.receive().then((v) => log.push(`clone got ${v}`), (e: Error) => log.push(`clone: ${e.name}`)));
        await waitAllTasksBlocked();
        receive.close();
        await waitAllTasksBlocked();
        await send.send("value");
      });
      expect(log).toEqual(["original: ClosedResourceError", "clone got value"]);
    }));

    it("wakes senders waiting on a closed send handle with ClosedResourceError", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>();
      const clone = send.clone();
      let error: unknown;
      await taskGroup(async (tg) => {
        tg.spawn(() => send.send(1).catch((e: unknown) => void (error = e)));
        tg.spawn(() => clone.send(2));
        await waitAllTasksBlocked();
        send.close();
        expect(await receive.receive()).toBe(2);
      });
      expect(error).toBeInstanceOf(ClosedResourceError);
      expect(receive.statistics().openSendChannels).toBe(1);
    }));

    it("closes on dispose and on async dispose", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(1);
      {
        using tx = send;
        await tx.send(1);
      }
      expect(receive.statistics().openSendChannels).toBe(0);
      {
        await using rx = receive;
        expect(await rx.receive()).toBe(1);
      }
      expect(send.statistics().openReceiveChannels).toBe(0);
    }));
  });

  describe("async iteration", () => {
    it("ends at EndOfChannel", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>();
      const got: number[] = [];
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          for (let i = 0; i < 3; i++) await send.send(i);
          send.close();
        });
        for await (const value of receive) got.push(value);
      });
      expect(got).toEqual([0, 1, 2]);
    }));

    it("does not close the channel when left early", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(Infinity);
      for (let i = 0; i < 4; i++) send.sendNowait(i);
      for await (const value of receive) if (value === 1) break;
      expect(receive.statistics().openReceiveChannels).toBe(1);
      expect(await receive.receive()).toBe(2);
    }));

    it("propagates a ClosedResourceError instead of ending quietly", virtual(async () => {
      const [, receive] = openMemoryChannel<number>();
      receive.close();
      await expect(
        (async () => {
          for await (const _ of receive);
        })(),
      ).rejects.toBeInstanceOf(ClosedResourceError);
    }));
  });

  describe("fairness", () => {
    it("serves waiting senders in FIFO order", virtual(async () => {
      const [send, receive] = openMemoryChannel<string>();
      await taskGroup(async (tg) => {
        for (const name of ["a", "b", "c"]) {
          tg.spawn(() => send.send(name));
          await waitAllTasksBlocked();
        }
        const got = [await receive.receive(), await receive.receive(), await receive.receive()];
        expect(got).toEqual(["a", "b", "c"]);
      });
    }));

    it("serves waiting receivers in FIFO order", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>();
      const got: string[] = [];
      await taskGroup(async (tg) => {
        for (const name of ["a", "b", "c"]) {
          tg.spawn(async () => void got.push(`${name}${await receive.receive()}`));
          await waitAllTasksBlocked();
        }
        for (let i = 1; i <= 3; i++) await send.send(i);
      });
      expect(got).toEqual(["a1", "b2", "c3"]);
    }));
  });

  describe("cancellation", () => {
    it("a cancelled send delivered nothing", virtual(async () => {
      const [send, receive] = openMemoryChannel<string>();
      const result = await moveOnAfter(10, () => send.send("lost"));
      expect(result).toBeUndefined();
      expect(send.statistics().tasksWaitingSend).toBe(0);
      await taskGroup(async (tg) => {
        tg.spawn(() => send.send("next"));
        expect(await receive.receive()).toBe("next");
      });
    }));

    it("a cancelled receive consumed nothing", virtual(async () => {
      const [send, receive] = openMemoryChannel<string>(1);
      expect(await moveOnAfter(10, () => receive.receive())).toBeUndefined();
      expect(receive.statistics().tasksWaitingReceive).toBe(0);
      await send.send("kept");
      expect(await receive.receive()).toBe("kept");
    }));

    it("send and receive are checkpoints: they throw Cancelled in a cancelled scope even when they could complete", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(Infinity);
      send.sendNowait(1);
      const scope = new CancelScope();
      await scope.run(async () => {
        scope.cancel();
        await expect(send.send(2)).rejects.toBeInstanceOf(Cancelled);
        await expect(receive.receive()).rejects.toBeInstanceOf(Cancelled);
      });
      expect(receive.statistics().currentBufferUsed).toBe(1);
      expect(receive.receiveNowait()).toBe(1);
    }));

    it("a value handed to a receiver is received even if its scope is cancelled right after", virtual(async () => {
      const [send, receive] = openMemoryChannel<string>();
      const scope = new CancelScope();
      let got: string | undefined;
      await taskGroup(async (tg) => {
        tg.spawn(() =>
          scope.run(async () => {
            got = await receive.receive();
            await checkpoint(); // the cancellation arrives here, after the value
          }),
        );
        await waitAllTasksBlocked();
        send.sendNowait("delivered");
        scope.cancel();
      });
      expect(got).toBe("delivered");
      expect(scope.cancelledCaught).toBe(true);
    }));
  });

  describe("fan-out", () => {
    it("with cloned receive ends, each value goes to exactly one worker", virtual(async () => {
      const [send, receive] = openMemoryChannel<number>(4);
      const seen = new Map<string, number[]>();
      await taskGroup(async (tg) => {
        for (const name of ["w1", "w2", "w3"]) {
          const rx = receive.clone();
          seen.set(name, []);
          tg.spawn(async () => {
            for await (const value of rx) {
              seen.get(name)!.push(value);
              await sleep(1);
            }
          });
        }
        receive.close();
        for (let i = 0; i < 30; i++) await send.send(i);
        send.close();
      });
      const all = [...seen.values()].flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i));
      for (const values of seen.values()) expect(values.length).toBe(10); // FIFO makes the spread even
    }));
  });

  it("reports statistics as a frozen record", virtual(async () => {
    const [send, receive] = openMemoryChannel<number>(8);
    send.sendNowait(1);
    const stats = receive.statistics();
    expect(stats).toEqual({
      currentBufferUsed: 1,
      maxBufferSize: 8,
      openSendChannels: 1,
      openReceiveChannels: 1,
      tasksWaitingSend: 0,
      tasksWaitingReceive: 0,
    });
    expect(Object.isFrozen(stats)).toBe(true);
  }));
});
