import { describe, expect, it } from "vitest";
import { BrokenResourceError, CancelScope, Cancelled, ClosedResourceError, EndOfChannel, WouldBlock, openMemoryChannel, taskGroup } from "@quartet/core";
import { waitAllTasksBlocked } from "@quartet/testing";
import { fromReadableStream, readableStreamFrom, toWritableStream } from "../src/index.js";

/** A ReadableStream whose chunks the test enqueues by hand; counts how often it was pulled. */
function manualSource<T>() {
  let controller!: ReadableStreamDefaultController<T>;
  const state = { pulls: 0, cancelled: false as boolean | unknown };
  const stream = new ReadableStream<T>(
    {
      start: (c) => void (controller = c),
      pull: () => void state.pulls++,
      cancel: (reason) => void (state.cancelled = reason ?? true),
    },
    { highWaterMark: 0 },
  );
  return { stream, controller, state };
}

describe("fromReadableStream", () => {
  it("receives the chunks of a fetch-style body in order and ends at the end of the stream", async () => {
    const body = new Response("hello, world").body!;
    using rx = fromReadableStream(body);
    const chunks: Uint8Array[] = [];
    for await (const chunk of rx) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe("hello, world");
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel);
  });

  it("reads from the stream only when a task asks", async () => {
    const { stream, controller, state } = manualSource<string>();
    using rx = fromReadableStream(stream);
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.pulls).toBe(0);
    controller.enqueue("a");
    expect(await rx.receive()).toBe("a");
  });

  it("a receive() cancelled while a read is in flight leaves that read's chunk for the next receive()", async () => {
    const { stream, controller } = manualSource<string>();
    using rx = fromReadableStream(stream);
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => rx.receive()));
      await waitAllTasksBlocked();
      scope.cancel();
    });
    expect(scope.cancelledCaught).toBe(true);
    controller.enqueue("kept"); // completes the read the cancelled receive() started
    controller.enqueue("next");
    expect(await rx.receive()).toBe("kept");
    expect(await rx.receive()).toBe("next");
    expect(rx.statistics().currentBufferUsed).toBe(0);
  });

  it("throws the stream's error from receive(), as it is", async () => {
    const { stream, controller } = manualSource<string>();
    using rx = fromReadableStream(stream);
    controller.error(new Error("upstream broke"));
    await expect(rx.receive()).rejects.toThrow("upstream broke");
  });

  it("closing the channel (every clone) cancels the stream", async () => {
    const { stream, state } = manualSource<string>();
    const rx = fromReadableStream(stream);
    const other = rx.clone();
    rx.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.cancelled).toBe(false);
    await expect(rx.receive()).rejects.toBeInstanceOf(ClosedResourceError);
    other.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.cancelled).toBe(true);
  });

  it("receiveNowait() throws WouldBlock until a read has completed", async () => {
    const { stream, controller } = manualSource<string>();
    using rx = fromReadableStream(stream);
    expect(() => rx.receiveNowait()).toThrow(WouldBlock); // and starts a read
    controller.enqueue("ready");
    await new Promise((resolve) => setImmediate(resolve));
    expect(rx.receiveNowait()).toBe("ready");
  });
});

describe("toWritableStream", () => {
  /** A WritableStream whose writes complete only when the test says so. */
  function slowSink(highWaterMark = 1) {
    const written: string[] = [];
    const pending: Array<() => void> = [];
    let closed = false;
    let abortedWith: unknown;
    const stream = new WritableStream<string>(
      {
        write: (chunk) =>
          new Promise<void>((resolve) => {
            written.push(chunk);
            pending.push(resolve);
          }),
        close: () => void (closed = true),
        abort: (reason) => void (abortedWith = reason),
      },
      { highWaterMark },
    );
    return { stream, written, complete: () => pending.shift()!(), isClosed: () => closed, abortedWith: () => abortedWith };
  }

  it("send() waits while the stream signals backpressure; a send() cancelled meanwhile wrote nothing", async () => {
    const sink = slowSink(1);
    const tx = toWritableStream(sink.stream);
    await tx.send("a"); // now the sink is busy and the queue full
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => tx.send("cancelled")));
      await waitAllTasksBlocked();
      expect(tx.statistics().tasksWaitingSend).toBe(1);
      scope.cancel();
    });
    let sentC = false;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await tx.send("c");
        sentC = true;
      });
      await waitAllTasksBlocked();
      expect(sentC).toBe(false);
      sink.complete();
    });
    expect(sentC).toBe(true);
    sink.complete();
    await tx.finish();
    expect(sink.written).toEqual(["a", "c"]);
    expect(sink.isClosed()).toBe(true);
  });

  it("finish() (await using) waits until the stream has closed", async () => {
    const received: string[] = [];
    let closed = false;
    const stream = new WritableStream<string>({ write: (chunk) => void received.push(chunk), close: () => void (closed = true) });
    {
      await using tx = toWritableStream(stream);
      await tx.send("hello");
      await tx.send("world");
    }
    expect(received).toEqual(["hello", "world"]);
    expect(closed).toBe(true);
  });

  it("throws the stream's error from the next send() and from finish()", async () => {
    const stream = new WritableStream<string>({
      write: () => {
        throw new Error("sink failed");
      },
    });
    const tx = toWritableStream(stream);
    await tx.send("boom");
    await new Promise((resolve) => setImmediate(resolve));
    await expect(tx.send("again")).rejects.toThrow("sink failed");
    await expect(tx.finish()).rejects.toThrow("sink failed");
  });

  it("finish() cancelled while it waits aborts the stream and throws Cancelled", async () => {
    const sink = slowSink(1);
    const tx = toWritableStream(sink.stream);
    await tx.send("stuck");
    let thrown: unknown;
    await new CancelScope().run(async (scope) => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          thrown = await tx.finish().catch((error: unknown) => error);
        });
        await waitAllTasksBlocked();
        scope.cancel();
      });
    });
    expect(thrown).toBeInstanceOf(Cancelled);
    sink.complete(); // the write in progress ends; then the abort reaches the sink
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.abortedWith()).toBe(thrown);
    expect(sink.isClosed()).toBe(false);
  });

  it("closes the stream when every handle is closed; a closed handle throws ClosedResourceError", async () => {
    const sink = slowSink(10);
    const tx = toWritableStream(sink.stream);
    const other = tx.clone();
    tx.close();
    await expect(tx.send("x")).rejects.toBeInstanceOf(ClosedResourceError);
    await other.send("from the clone");
    other.close();
    await expect(other.send("y")).rejects.toBeInstanceOf(ClosedResourceError);
    sink.complete();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.isClosed()).toBe(true);
    expect(sink.written).toEqual(["from the clone"]);
  });
});

describe("readableStreamFrom", () => {
  it("makes a Response body of a channel's values", async () => {
    const [tx, rx] = openMemoryChannel<string>();
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using send = tx;
        await send.send("streamed ");
        await send.send("body");
      });
      const text = await new Response(readableStreamFrom(rx).pipeThrough(new TextEncoderStream())).text();
      expect(text).toBe("streamed body");
    });
  });

  it("cancelling the stream cancels the receive in progress and closes the channel", async () => {
    const [tx, rx] = openMemoryChannel<string>();
    const stream = readableStreamFrom(rx);
    const reader = stream.getReader();
    await taskGroup(async (tg) => {
      const read = reader.read();
      await waitAllTasksBlocked();
      expect(rx.statistics().tasksWaitingReceive).toBe(1);
      await reader.cancel("done");
      expect(await read).toEqual({ done: true, value: undefined });
      await expect(tx.send("nobody listens")).rejects.toBeInstanceOf(BrokenResourceError);
      tg.cancelScope.cancel();
    });
  });

  it("errors the stream with the channel's error", async () => {
    const [, rx] = openMemoryChannel<string>();
    rx.close();
    const reader = readableStreamFrom(rx).getReader();
    await expect(reader.read()).rejects.toBeInstanceOf(ClosedResourceError);
  });
});
