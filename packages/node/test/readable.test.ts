import { createReadStream, createWriteStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import {
  BrokenResourceError,
  CancelScope,
  Cancelled,
  ClosedResourceError,
  EndOfChannel,
  WouldBlock,
  checkpoint,
  openMemoryChannel,
  taskGroup,
} from "@quartet/core";
import { waitAllTasksBlocked } from "@quartet/testing";
import { fromReadable, readableFrom } from "../src/index.js";
import { random, socketPair, temporaryDirectory } from "./helpers.js";

describe("fromReadable", () => {
  it("receives a file's bytes in order, then ends the for-await loop", async () => {
    await using dir = await temporaryDirectory();
    const path = join(dir.path, "data.bin");
    const data = Buffer.alloc(300_000, "abcdefghij");
    await writeFile(path, data);
    const chunks: Buffer[] = [];
    using rx = fromReadable<Buffer>(createReadStream(path, { highWaterMark: 16_384 }));
    for await (const chunk of rx) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel);
  });

  it("receiveMany() takes the chunks the stream has buffered, up to max, then ends like receive()", async () => {
    using rx = fromReadable<number>(Readable.from([1, 2, 3, 4, 5], { objectMode: true }));
    const batches: number[][] = [];
    for (;;) {
      try {
        batches.push(await rx.receiveMany(2));
      } catch (error) {
        if (error instanceof EndOfChannel) break;
        throw error;
      }
    }
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(batches.every((batch) => batch.length >= 1 && batch.length <= 2)).toBe(true);
    await expect(rx.receiveMany(0)).rejects.toBeInstanceOf(RangeError);
  });

  it("receiveMany() throws the stream's error as receive() does", async () => {
    const source = new PassThrough({ objectMode: true });
    using rx = fromReadable<string>(source);
    source.write("a");
    source.write("b");
    await new Promise((resolve) => setImmediate(resolve));
    source.destroy(new Error("disk on fire"));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(rx.receiveMany(10)).rejects.toThrow("disk on fire");
    await expect(rx.receive()).rejects.toThrow("disk on fire");
  });

  it("throws the stream's own error from receive(), as it is", async () => {
    await using dir = await temporaryDirectory();
    using rx = fromReadable(createReadStream(join(dir.path, "missing.txt")));
    await expect(rx.receive()).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reads ahead only up to the stream's highWaterMark while nobody receives (backpressure)", async () => {
    let pulled = 0;
    const source = new Readable({
      objectMode: true,
      highWaterMark: 4,
      read() {
        this.push(pulled++);
      },
    });
    using rx = fromReadable<number>(source);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(pulled).toBeLessThanOrEqual(5);
    expect(rx.statistics()).toMatchObject({ currentBufferUsed: 4, maxBufferSize: 4 });
    expect(await rx.receive()).toBe(0);
    expect(await rx.receive()).toBe(1);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(pulled).toBeLessThanOrEqual(7);
  });

  it("a receive() cancelled while it waits consumes nothing: the next receive() gets the chunk", async () => {
    const stream = new PassThrough();
    using rx = fromReadable<Buffer>(stream);
    const scope = new CancelScope();
    let outcome = "";
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await scope.run(() => rx.receive());
        outcome = scope.cancelledCaught ? "cancelled" : "received";
      });
      await waitAllTasksBlocked();
      expect(rx.statistics().tasksWaitingReceive).toBe(1);
      stream.write("first"); // 'readable' comes later: the cancellation below wins
      scope.cancel();
    });
    expect(outcome).toBe("cancelled");
    expect(rx.statistics().tasksWaitingReceive).toBe(0);
    expect((await rx.receive()).toString()).toBe("first");
  });

  it("loses and duplicates nothing when receives over a real socket are cancelled at random", async () => {
    using pair = await socketPair();
    const [client, server] = pair;
    const expected = Buffer.from(Array.from({ length: 2000 }, (_, i) => `${i},`).join(""));
    using rx = fromReadable<Buffer>(server);
    const next = random(42);
    const received: Buffer[] = [];
    let cancelled = 0;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        for (let i = 0; i < expected.length; i += 97) {
          client.write(expected.subarray(i, i + 97));
          if (next() < 0.5) await new Promise((resolve) => setImmediate(resolve));
        }
        client.end();
      });
      for (;;) {
        const scope = new CancelScope();
        let chunk: Buffer | undefined;
        try {
          chunk = await scope.run(async () => {
            // Cancelled at once (at receive()'s checkpoint), or later (usually while it waits for data).
            const dice = next();
            if (dice < 0.15) queueMicrotask(() => scope.cancel());
            else if (dice < 0.4) setImmediate(() => scope.cancel());
            return rx.receive();
          });
        } catch (error) {
          if (error instanceof EndOfChannel) break;
          throw error;
        }
        if (chunk === undefined) cancelled++;
        else received.push(chunk);
      }
    });
    expect(cancelled).toBeGreaterThan(0);
    expect(Buffer.concat(received).toString()).toBe(expected.toString());
  });

  it("closing the channel destroys the stream and wakes its waiters with ClosedResourceError", async () => {
    const stream = new PassThrough();
    const rx = fromReadable(stream);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await expect(rx.receive()).rejects.toBeInstanceOf(ClosedResourceError);
      });
      await waitAllTasksBlocked();
      rx.close();
    });
    expect(stream.destroyed).toBe(true);
    await expect(rx.receive()).rejects.toBeInstanceOf(ClosedResourceError);
  });

  it("the stream is destroyed only when every clone is closed, and closing a clone wakes only its own waiters", async () => {
    const stream = new PassThrough();
    const rx = fromReadable<Buffer>(stream);
    const other = rx.clone();
    expect(rx.statistics().openReceiveChannels).toBe(2);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await expect(other.receive()).rejects.toBeInstanceOf(ClosedResourceError);
      });
      tg.spawn(async () => {
        expect((await rx.receive()).toString()).toBe("still here");
      });
      await waitAllTasksBlocked();
      other.close();
      expect(stream.destroyed).toBe(false);
      stream.write("still here");
    });
    rx.close();
    expect(stream.destroyed).toBe(true);
  });

  it("a stream destroyed before its end makes receive() throw BrokenResourceError", async () => {
    const stream = new PassThrough();
    using rx = fromReadable(stream);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await expect(rx.receive()).rejects.toBeInstanceOf(BrokenResourceError);
      });
      await waitAllTasksBlocked();
      stream.destroy();
    });
  });

  it("receiveNowait() returns buffered data, throws WouldBlock when there is none, and EndOfChannel at the end", async () => {
    const stream = new PassThrough({ objectMode: true });
    using rx = fromReadable<string>(stream);
    expect(() => rx.receiveNowait()).toThrow(WouldBlock);
    stream.write("a");
    stream.end();
    expect(rx.receiveNowait()).toBe("a");
    await expect(rx.receive()).rejects.toBeInstanceOf(EndOfChannel);
    expect(() => rx.receiveNowait()).toThrow(EndOfChannel);
  });

  it("a stream destroyed with another scope's Cancelled gives a task that is not cancelled a BrokenResourceError, with the Cancelled as cause", async () => {
    const stream = new PassThrough();
    using rx = fromReadable<Buffer>(stream);
    const elsewhere = await new CancelScope().run(async (scope) => {
      scope.cancel("elsewhere");
      return checkpoint().catch((error: unknown) => error);
    });
    stream.destroy(elsewhere as Cancelled);
    const error = await rx.receive().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenResourceError);
    expect((error as Error).cause).toBe(elsewhere);
    // In a cancelled scope, it is that scope's own cancellation.
    const inside = await new CancelScope().run(async (scope) => {
      scope.cancel("here");
      return (() => {
        try {
          return rx.receiveNowait();
        } catch (e) {
          return e;
        }
      })();
    });
    expect(inside).toMatchObject({ name: "Cancelled", reason: "here" });
  });

  it("in a cancelled scope, the error of a socket whose peer reset it is the scope's Cancelled", async () => {
    using pair = await socketPair();
    const [ours, theirs] = pair;
    using rx = fromReadable<Buffer>(ours);
    theirs.resetAndDestroy();
    await expect(rx.receive()).rejects.toMatchObject({ code: "ECONNRESET" }); // not cancelled: the error as it is
    await new CancelScope().run(async (scope) => {
      scope.cancel();
      expect(() => rx.receiveNowait()).toThrow(Cancelled);
    });
  });

  it("receive() is a checkpoint: in a cancelled scope it throws Cancelled and leaves the data", async () => {
    const stream = new PassThrough({ objectMode: true });
    using rx = fromReadable<string>(stream);
    stream.write("kept");
    await new CancelScope().run(async (scope) => {
      scope.cancel();
      await expect(rx.receive()).rejects.toBeInstanceOf(Cancelled);
    });
    expect(await rx.receive()).toBe("kept");
  });

  it("rejects what is not a Readable with a TypeError naming the argument", () => {
    expect(() => fromReadable({} as Readable)).toThrow(/fromReadable\(\) readable must be a Node Readable stream; got an object/);
  });
});

describe("readableFrom", () => {
  it("streams a channel's values into a file through pipeline(), and ends when the channel ends", async () => {
    await using dir = await temporaryDirectory();
    const path = join(dir.path, "out.txt");
    const [tx, rx] = openMemoryChannel<string>();
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using send = tx;
        for (let i = 0; i < 100; i++) await send.send(`line ${i}\n`);
      });
      await pipeline(readableFrom(rx), createWriteStream(path));
    });
    const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
    expect(lines).toHaveLength(100);
    expect(lines[99]).toBe("line 99");
  });

  it("receives only as its consumer reads (no read-ahead beyond its highWaterMark)", async () => {
    const [tx, rx] = openMemoryChannel<number>(Infinity);
    for (let i = 0; i < 10; i++) tx.sendNowait(i);
    const stream = readableFrom(rx, { objectMode: true, highWaterMark: 2 });
    stream.pause();
    stream.read(0); // start it
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(rx.statistics().currentBufferUsed).toBe(8);
    stream.destroy();
    tx.close();
  });

  it("destroying the stream cancels the receive in progress and closes the channel, so senders learn of it", async () => {
    const [tx, rx] = openMemoryChannel<string>();
    await taskGroup(async (tg) => {
      const stream = readableFrom(rx);
      stream.resume();
      await waitAllTasksBlocked();
      expect(rx.statistics().tasksWaitingReceive).toBe(1);
      stream.destroy();
      await expect(tx.send("nobody listens")).rejects.toBeInstanceOf(BrokenResourceError);
      tg.cancelScope.cancel();
    });
  });

  it("destroys the stream with the channel's error", async () => {
    const [, rx] = openMemoryChannel<string>();
    rx.close(); // receive() will throw ClosedResourceError
    const stream = readableFrom(rx);
    stream.resume();
    const [error] = (await new Promise((resolve) => stream.once("error", (...args) => resolve(args)))) as [unknown];
    expect(error).toBeInstanceOf(ClosedResourceError);
  });

  it("is destroyed with Cancelled when the scope it was made in is cancelled", async () => {
    const [tx, rx] = openMemoryChannel<string>();
    let error: unknown;
    await new CancelScope().run(async (scope) => {
      const stream = readableFrom(rx);
      stream.on("error", (e) => (error = e));
      stream.resume();
      await waitAllTasksBlocked(); // the stream's receive() waits, in this scope
      scope.cancel();
      await new Promise((resolve) => stream.once("close", resolve));
    });
    expect(error).toBeInstanceOf(Cancelled);
    expect(rx.statistics().openReceiveChannels).toBe(0);
    tx.close();
  });
});
