import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { BrokenResourceError, CancelScope, Cancelled, ClosedResourceError, WouldBlock, checkpoint, taskGroup } from "@quartet/core";
import { waitAllTasksBlocked } from "@quartet/testing";
import { toWritable } from "../src/index.js";
import { random, socketPair, temporaryDirectory } from "./helpers.js";

/** A Writable whose writes complete only when the test says so. */
function slowSink(highWaterMark: number) {
  const written: string[] = [];
  const callbacks: Array<(error?: Error) => void> = [];
  const stream = new Writable({
    objectMode: true,
    highWaterMark,
    write(chunk: string, _encoding, callback) {
      written.push(chunk);
      callbacks.push(callback);
    },
  });
  return { stream, written, complete: (error?: Error) => callbacks.shift()!(error) };
}

describe("toWritable", () => {
  it("send() waits while write() has returned false, and goes on once the stream drains (backpressure)", async () => {
    const sink = slowSink(1);
    using tx = toWritable<string>(sink.stream);
    await tx.send("a"); // accepted, but now the buffer is full
    let sentB = false;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await tx.send("b");
        sentB = true;
      });
      await waitAllTasksBlocked();
      expect(sentB).toBe(false);
      expect(tx.statistics()).toMatchObject({ tasksWaitingSend: 1, currentBufferUsed: 1, maxBufferSize: 1 });
      sink.complete(); // 'drain'
    });
    expect(sentB).toBe(true);
    expect(sink.written).toEqual(["a", "b"]);
    sink.complete();
  });

  it("sendMany() writes the values in order, waiting for 'drain' between them, and counts what it wrote when cancelled", async () => {
    const sink = slowSink(1);
    using tx = toWritable<string>(sink.stream);
    const scope = new CancelScope();
    let sending: ReturnType<typeof tx.sendMany> | undefined;
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => (sending = tx.sendMany(["a", "b", "c"]))));
      await waitAllTasksBlocked();
      expect(sending!.delivered).toBe(1);
      sink.complete(); // 'drain': "b" goes out
      await waitAllTasksBlocked();
      expect(sending!.delivered).toBe(2);
      scope.cancel();
    });
    await expect(sending).rejects.toBeInstanceOf(Cancelled);
    expect(sink.written).toEqual(["a", "b"]);
    sink.complete();
    await expect(tx.sendMany(7 as unknown as string[])).rejects.toBeInstanceOf(TypeError);
  });

  it("a send() cancelled while it waits for 'drain' has written nothing", async () => {
    const sink = slowSink(1);
    using tx = toWritable<string>(sink.stream);
    await tx.send("a");
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(() => scope.run(() => tx.send("never")));
      await waitAllTasksBlocked();
      scope.cancel();
    });
    expect(scope.cancelledCaught).toBe(true);
    sink.complete();
    await tx.send("c");
    expect(sink.written).toEqual(["a", "c"]);
    sink.complete();
  });

  it("loses and duplicates nothing when sends over a real socket are cancelled at random", async () => {
    using pair = await socketPair();
    const [client, server] = pair;
    const next = random(7);
    const chunks = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(3, "0")}:${"x".repeat(32_000)}\n`);
    const received: Buffer[] = [];
    const ended = new Promise((resolve) => server.on("end", resolve));
    server.pause();
    server.on("data", (chunk: Buffer) => {
      received.push(chunk);
      // a slow reader, so that the client's buffer fills and sends wait
      server.pause();
      setImmediate(() => server.resume());
    });
    const delivered: string[] = [];
    let cancelled = 0;
    await taskGroup(async () => {
      const tx = toWritable<string>(client);
      setImmediate(() => server.resume());
      for (const chunk of chunks) {
        const scope = new CancelScope();
        await scope.run(async () => {
          // Cancelled at once (at send()'s checkpoint), or later (usually while it waits for 'drain').
          const dice = next();
          if (dice < 0.1) queueMicrotask(() => scope.cancel());
          else if (dice < 0.4) setImmediate(() => scope.cancel());
          await tx.send(chunk);
          delivered.push(chunk);
        });
        if (scope.cancelledCaught) cancelled++;
      }
      await tx.finish();
    });
    await ended;
    expect(cancelled).toBeGreaterThan(0);
    expect(delivered.length).toBeLessThan(chunks.length);
    expect(Buffer.concat(received).toString()).toBe(delivered.join(""));
  });

  it("finish() (await using) waits until a file is completely written", async () => {
    await using dir = await temporaryDirectory();
    const path = join(dir.path, "out.txt");
    {
      await using tx = toWritable<string>(createWriteStream(path, { highWaterMark: 64 }));
      for (let i = 0; i < 1000; i++) await tx.send(`${i}\n`);
    }
    const lines = (await readFile(path, "utf8")).trimEnd().split("\n");
    expect(lines).toHaveLength(1000);
    expect(lines.at(-1)).toBe("999");
  });

  it("finish() throws the stream's error, as it is", async () => {
    await using dir = await temporaryDirectory();
    const tx = toWritable<string>(createWriteStream(join(dir.path, "no-such-directory", "out.txt")));
    await expect(tx.finish()).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("send() throws a write error that happened after an earlier send", async () => {
    const sink = slowSink(10);
    using tx = toWritable<string>(sink.stream);
    await tx.send("a");
    sink.complete(new Error("disk full"));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(tx.send("b")).rejects.toThrow("disk full");
  });

  it("finish() cancelled while it waits destroys the stream and throws Cancelled", async () => {
    const sink = slowSink(10);
    const tx = toWritable<string>(sink.stream);
    await tx.send("stuck");
    await new CancelScope().run(async (scope) => {
      let error: unknown;
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          try {
            await tx.finish();
          } catch (e) {
            error = e;
          }
        });
        await waitAllTasksBlocked();
        scope.cancel();
      }).catch(() => {});
      expect(error).toBeInstanceOf(Cancelled);
    });
    expect(sink.stream.destroyed).toBe(true);
  });

  it("await using in a cancelled scope destroys the stream without throwing Cancelled, so that two disposals make no SuppressedError", async () => {
    const first = slowSink(10);
    const second = slowSink(10);
    const scope = new CancelScope();
    await scope.run(async () => {
      await using a = toWritable<string>(first.stream);
      await using b = toWritable<string>(second.stream);
      await a.send("pending");
      await b.send("pending");
      scope.cancel();
      await checkpoint(); // the cancellation is thrown here, not by the disposals
    });
    expect(scope.cancelledCaught).toBe(true);
    expect(first.stream.destroyed).toBe(true);
    expect(second.stream.destroyed).toBe(true);
  });

  it("in a cancelled scope, the error of a socket whose peer reset it is the scope's Cancelled: finish(), send() and disposal", async () => {
    using pair = await socketPair();
    const [ours, theirs] = pair;
    theirs.resetAndDestroy(); // the peer goes away: our writes fail (EPIPE or ECONNRESET)
    const tx = toWritable<string>(ours);
    while (!ours.errored) {
      tx.sendNowait("x".repeat(1000));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const peerError = ours.errored;
    expect((peerError as NodeJS.ErrnoException).code).toMatch(/^(EPIPE|ECONNRESET)$/);
    // Where the cancellation (or what caused it) broke the stream, the stream's error is that cancellation…
    await new CancelScope().run(async (scope) => {
      scope.cancel("the connection is being torn down");
      expect(() => tx.sendNowait("y")).toThrow(Cancelled);
      await expect(tx.clone().finish()).rejects.toBeInstanceOf(Cancelled);
      await using _out = tx.clone(); // disposal neither throws the peer's error nor makes a SuppressedError
    });
    // …and elsewhere it is the stream's error, as it is.
    await expect(tx.finish()).rejects.toBe(peerError);
  });

  it("a stream destroyed with another scope's Cancelled gives a task that is not cancelled a BrokenResourceError, with the Cancelled as cause", async () => {
    const sink = slowSink(10);
    using tx = toWritable<string>(sink.stream);
    const elsewhere = await new CancelScope().run(async (scope) => {
      scope.cancel("elsewhere");
      return checkpoint().catch((error: unknown) => error);
    });
    expect(elsewhere).toBeInstanceOf(Cancelled);
    sink.stream.destroy(elsewhere as Cancelled);
    await new Promise((resolve) => setImmediate(resolve));
    const error = await tx.send("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokenResourceError);
    expect((error as Error).cause).toBe(elsewhere);
  });

  it("after the stream was destroyed, send() throws BrokenResourceError", async () => {
    const sink = slowSink(10);
    using tx = toWritable<string>(sink.stream);
    sink.stream.destroy();
    await expect(tx.send("x")).rejects.toBeInstanceOf(BrokenResourceError);
    expect(() => tx.sendNowait("x")).toThrow(BrokenResourceError);
  });

  it("ends the stream only when every clone is closed; a closed handle throws ClosedResourceError", async () => {
    const sink = slowSink(10);
    const tx = toWritable<string>(sink.stream);
    const other = tx.clone();
    expect(tx.statistics().openSendChannels).toBe(2);
    tx.close();
    expect(sink.stream.writableEnded).toBe(false);
    await expect(tx.send("x")).rejects.toBeInstanceOf(ClosedResourceError);
    await other.send("from the clone");
    other.close();
    expect(sink.stream.writableEnded).toBe(true);
    expect(sink.written).toEqual(["from the clone"]);
    sink.complete();
  });

  it("sendNowait() writes when there is room and throws WouldBlock while the stream needs to drain", () => {
    const sink = slowSink(1);
    using tx = toWritable<string>(sink.stream);
    tx.sendNowait("a");
    expect(() => tx.sendNowait("b")).toThrow(WouldBlock);
    expect(sink.written).toEqual(["a"]);
    sink.complete();
  });

  it("rejects what is not a Writable with a TypeError naming the argument", () => {
    expect(() => toWritable(42 as unknown as Writable)).toThrow(/toWritable\(\) writable must be a Node Writable stream; got 42/);
  });
});
