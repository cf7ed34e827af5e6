// Channels over MessagePorts, with both ends in this thread (messages still cross a real port; a
// reply takes a turn of the event loop, so these tests wait for it with a few real ms at most).
// worker.test.ts runs them between threads.
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { BrokenResourceError, CancelScope, ClosedResourceError, EndOfChannel, WouldBlock, taskGroup } from "@quartet/core";
import { receiveChannelOverPort, sendChannelOverPort } from "../src/index.js";

/** Waits until `condition()` holds: messages between the ports take a turn of the event loop. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 1000) throw new Error("gave up waiting for a message to arrive");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function openPair<T>(bufferSize?: number) {
  const { port1, port2 } = new MessageChannel();
  return [sendChannelOverPort<T>(port1, bufferSize === undefined ? undefined : { bufferSize }), receiveChannelOverPort<T>(port2)] as const;
}

describe("channels over a MessagePort", () => {
  it("deliver the values in order, then EndOfChannel when the sender closes", async () => {
    const [send, receive] = openPair<number>(4);
    const received: number[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using tx = send;
        for (let i = 0; i < 100; i++) await tx.send(i);
      });
      for await (const value of receive) received.push(value);
    });
    receive.close();
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await expect(receive.receive()).rejects.toThrow(ClosedResourceError);
  });

  it("let at most bufferSize values be in flight: sendNowait() beyond that throws WouldBlock until the receiver takes one", async () => {
    const [send, receive] = openPair<string>(2);
    send.sendNowait("a");
    send.sendNowait("b");
    expect(() => send.sendNowait("c")).toThrow(WouldBlock);
    expect(send.statistics()).toMatchObject({ currentBufferUsed: 2, maxBufferSize: 2 });
    await until(() => receive.statistics().currentBufferUsed === 2);
    expect(receive.receiveNowait()).toBe("a");
    await until(() => send.statistics().currentBufferUsed < 2);
    send.sendNowait("c");
    await until(() => receive.statistics().currentBufferUsed === 2);
    expect(await receive.receiveMany()).toEqual(["b", "c"]);
    send.close();
    await expect(receive.receive()).rejects.toThrow(EndOfChannel);
    receive.close();
  });

  it("a send cancelled while it waits for room sent nothing", async () => {
    const [send, receive] = openPair<number>(1);
    await send.send(1);
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => send.send(2)));
      await until(() => send.statistics().tasksWaitingSend === 1);
      scope.cancel();
    });
    expect(scope.cancelledCaught).toBe(true);
    send.close();
    const received: number[] = [];
    for await (const value of receive) received.push(value);
    expect(received).toEqual([1]);
    receive.close();
  });

  it("closing the receive end breaks the sender: send() throws BrokenResourceError, also one that waits", async () => {
    const [send, receive] = openPair<number>(1);
    await send.send(1);
    let error: unknown;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        error = await send.send(2).catch((e: unknown) => e);
      });
      await until(() => send.statistics().tasksWaitingSend === 1);
      receive.close();
    });
    expect(error).toBeInstanceOf(BrokenResourceError);
    expect((error as Error).message).toBe("send(): the receiving end was closed");
    await expect(send.send(3)).rejects.toThrow(BrokenResourceError);
    expect(send.statistics().openReceiveChannels).toBe(0);
    send.close();
  });

  it("a port closed without ending the channel breaks the receiver, after the values that arrived", async () => {
    const { port1, port2 } = new MessageChannel();
    const send = sendChannelOverPort<number>(port1);
    const receive = receiveChannelOverPort<number>(port2);
    await send.send(1);
    port1.close(); // the sending thread went away
    expect(await receive.receive()).toBe(1);
    await expect(receive.receive()).rejects.toThrow(new BrokenResourceError("receive(): the sending end went away without closing the channel"));
    receive.close();
  });

  it("finish() waits until the receiver has taken every value; it throws BrokenResourceError if the receiver closes first", async () => {
    const [send, receive] = openPair<number>(8);
    let finished = false;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await send.send(1);
        await send.send(2);
        await send.finish();
        finished = true;
      });
      await until(() => receive.statistics().currentBufferUsed === 2);
      expect(await receive.receive()).toBe(1);
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(finished).toBe(false);
      expect(await receive.receive()).toBe(2);
    });
    expect(finished).toBe(true);
    receive.close();

    const [send2, receive2] = openPair<number>(8);
    await send2.send(1);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await expect(send2.finish()).rejects.toThrow(BrokenResourceError);
      });
      await until(() => send2.statistics().tasksWaitingSend === 1);
      receive2.close();
    });
  });

  it("transfer moves a value's buffers instead of copying them", async () => {
    const { port1, port2 } = new MessageChannel();
    const send = sendChannelOverPort<Uint8Array<ArrayBuffer>>(port1, { transfer: (bytes) => [bytes.buffer] });
    const receive = receiveChannelOverPort<Uint8Array>(port2);
    const bytes = new Uint8Array([1, 2, 3]);
    await send.send(bytes);
    expect(bytes.byteLength).toBe(0); // moved
    expect([...(await receive.receive())]).toEqual([1, 2, 3]);
    send.close();
    receive.close();
  });

  it("a value that cannot be copied is refused by send(), which sent nothing", async () => {
    const [send, receive] = openPair<unknown>(1);
    await expect(send.send(() => 1)).rejects.toThrow(/could not be cloned/);
    expect(send.statistics().currentBufferUsed).toBe(0);
    await send.send("fine");
    expect(await receive.receive()).toBe("fine");
    send.close();
    receive.close();
  });

  it("statistics() of both ends", async () => {
    const [send, receive] = openPair<number>(3);
    await send.send(7);
    await until(() => receive.statistics().currentBufferUsed === 1);
    // The same from both ends: one value in flight (sent, not yet received), one handle open at each end.
    const expected = {
      currentBufferUsed: 1,
      maxBufferSize: 3,
      openSendChannels: 1,
      openReceiveChannels: 1,
      tasksWaitingSend: 0,
      tasksWaitingReceive: 0,
    };
    expect(send.statistics()).toEqual(expected);
    expect(receive.statistics()).toEqual(expected);
    send.close();
    receive.close();
  });

  it("reject bad arguments with TypeErrors and RangeErrors naming them", () => {
    const { port1, port2 } = new MessageChannel();
    expect(() => sendChannelOverPort({} as never)).toThrow(new TypeError("sendChannelOverPort() port must be a MessagePort; got an object"));
    expect(() => receiveChannelOverPort(null as never)).toThrow(new TypeError("receiveChannelOverPort() port must be a MessagePort; got null"));
    expect(() => sendChannelOverPort(port1, { bufferSize: 0 })).toThrow(
      new RangeError("sendChannelOverPort() bufferSize must be an integer of at least 1, or Infinity; got 0"),
    );
    expect(() => sendChannelOverPort(port1, { bufferSize: "4" as never })).toThrow(new TypeError('sendChannelOverPort() bufferSize must be a number; got "4"'));
    expect(() => sendChannelOverPort(port1, { transfer: [] as never })).toThrow(/sendChannelOverPort\(\) transfer must be a function/);
    port1.close();
    port2.close();
  });
});
