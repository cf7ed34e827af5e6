import { createServer, type AddressInfo } from "node:net";
import { once } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { Cancelled, CancelScope, EndOfChannel, Event, isCancelled, sleepForever, taskGroup } from "@quartet/core";
import { waitAllTasksBlocked } from "@quartet/testing";
import { openTcpStream, serveTcp, type ServeTcpOptions, type TcpStream } from "../src/index.js";

const LOCAL = { port: 0, host: "127.0.0.1" };

async function echo(stream: TcpStream): Promise<void> {
  for await (const chunk of stream.incoming) await stream.outgoing.send(chunk);
}

/** Reads a stream to its end. */
async function readAll(stream: TcpStream): Promise<string> {
  let text = "";
  for await (const chunk of stream.incoming) text += chunk.toString();
  return text;
}

describe("serveTcp", () => {
  it("reports the bound address to started() (port 0 picks one) and runs the handler for each connection", async () => {
    await taskGroup(async (tg) => {
      const address = await tg.start<AddressInfo>((status) => serveTcp(echo, LOCAL, status));
      expect(address.address).toBe("127.0.0.1");
      expect(address.port).toBeGreaterThan(0);
      await using a = await openTcpStream("127.0.0.1", address.port);
      await using b = await openTcpStream("127.0.0.1", address.port);
      await a.outgoing.send("from a");
      await b.outgoing.send("from b");
      expect((await b.incoming.receive()).toString()).toBe("from b");
      expect((await a.incoming.receive()).toString()).toBe("from a");
      tg.cancelScope.cancel();
    });
  });

  it("closes the connection once the handler returns, after what it sent has gone out", async () => {
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveTcp(async (stream) => {
          await stream.outgoing.send("x".repeat(1_000_000));
          await stream.outgoing.send("bye");
        }, LOCAL, status),
      );
      await using client = await openTcpStream("127.0.0.1", port);
      const text = await readAll(client);
      expect(text.length).toBe(1_000_003);
      expect(text.endsWith("bye")).toBe(true);
      tg.cancelScope.cancel();
    });
  });

  it("supports half-close: the client ends its side and still gets the reply", async () => {
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveTcp(async (stream) => {
          const request = await readAll(stream); // until the client's end-of-file
          await stream.outgoing.send(request.toUpperCase());
        }, LOCAL, status),
      );
      await using client = await openTcpStream("127.0.0.1", port);
      await client.outgoing.send("shout this");
      client.outgoing.close(); // end-of-file to the server
      expect(await readAll(client)).toBe("SHOUT THIS");
      tg.cancelScope.cancel();
    });
  });

  it("has backpressure: while the handler does not receive, the client's sends come to wait", async () => {
    const readNow = new Event();
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveTcp(async (stream) => {
          await readNow.wait();
          let bytes = 0;
          for await (const chunk of stream.incoming) bytes += chunk.length;
          await stream.outgoing.send(String(bytes));
        }, LOCAL, status),
      );
      await using client = await openTcpStream("127.0.0.1", port);
      const chunk = Buffer.alloc(1 << 20);
      let sent = 0;
      await taskGroup(async (inner) => {
        inner.spawn(async () => {
          for (let i = 0; i < 24; i++) {
            await client.outgoing.send(chunk);
            sent++;
          }
          client.outgoing.close();
        });
        // Wait until the client's send is blocked on a full socket (the server reads nothing).
        while (client.outgoing.statistics().tasksWaitingSend === 0) await new Promise((resolve) => setImmediate(resolve));
        expect(sent).toBeLessThan(24);
        readNow.set();
      });
      expect(await readAll(client)).toBe(String(24 << 20));
      tg.cancelScope.cancel();
    });
  });

  it("reports a failing handler to onError, closes its connection, and goes on serving", async () => {
    const errors: unknown[] = [];
    const options: ServeTcpOptions = { ...LOCAL, onError: (error) => errors.push(error) };
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveTcp(async (stream) => {
          const request = (await stream.incoming.receive()).toString();
          if (request === "fail") throw new Error("handler failed");
          await stream.outgoing.send(`ok: ${request}`);
        }, options, status),
      );
      {
        await using bad = await openTcpStream("127.0.0.1", port);
        await bad.outgoing.send("fail");
        await expect(readAll(bad)).resolves.toBe("");
      }
      await using good = await openTcpStream("127.0.0.1", port);
      await good.outgoing.send("hello");
      expect(await readAll(good)).toBe("ok: hello");
      tg.cancelScope.cancel();
    });
    expect(errors).toEqual([new Error("handler failed")]);
  });

  it("by default does not print a peer that reset the connection (ECONNRESET, EPIPE), but prints other failures", async () => {
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    const ended: string[] = [];
    try {
      await taskGroup(async (tg) => {
        const { port } = await tg.start<AddressInfo>((status) =>
          serveTcp(async (stream) => {
            const what = (await stream.incoming.receive()).toString();
            try {
              if (what === "fail") throw new Error("a real failure");
              if (what === "flood") for (;;) await stream.outgoing.send(Buffer.alloc(65_536)); // to a peer that is gone
              await stream.incoming.receive(); // the peer resets meanwhile
            } finally {
              ended.push(what);
            }
          }, LOCAL, status),
        );
        for (const what of ["read", "flood"]) {
          const client = await openTcpStream("127.0.0.1", port);
          await client.outgoing.send(what);
          await new Promise((resolve) => setTimeout(resolve, 10)); // the handler has received it
          client.socket.resetAndDestroy();
        }
        await using failing = await openTcpStream("127.0.0.1", port);
        await failing.outgoing.send("fail");
        await readAll(failing);
        while (ended.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
        tg.cancelScope.cancel();
      });
      expect(ended.sort()).toEqual(["fail", "flood", "read"]);
      expect(printed).toHaveBeenCalledTimes(1);
      expect(printed.mock.calls[0]![1]).toEqual(new Error("a real failure"));
    } finally {
      printed.mockRestore();
    }
  });

  it("gives peer resets to an onError of the user's, who decides", async () => {
    const errors: unknown[] = [];
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) =>
        serveTcp(async (stream) => void (await stream.incoming.receive()), { ...LOCAL, onError: (error) => errors.push(error) }, status),
      );
      const client = await openTcpStream("127.0.0.1", port);
      await new Promise((resolve) => setTimeout(resolve, 10)); // the handler waits to receive
      client.socket.resetAndDestroy();
      while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      tg.cancelScope.cancel();
    });
    expect(errors).toMatchObject([{ code: "ECONNRESET" }]);
  });

  it("when onError throws, the server stops and serveTcp throws that error", async () => {
    const error = await taskGroup(async (tg) => {
      const options: ServeTcpOptions = {
        ...LOCAL,
        onError: (e) => {
          throw new Error("fatal", { cause: e });
        },
      };
      const { port } = await tg.start<AddressInfo>((status) =>
        serveTcp(async () => {
          throw new Error("handler failed");
        }, options, status),
      );
      await using _client = await openTcpStream("127.0.0.1", port);
      await sleepForever(); // the server's failure cancels this
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "fatal", cause: new Error("handler failed") });
  });

  it("when cancelled, stops accepting, gives handlers gracePeriod ms to finish, then cancels the rest and closes their connections", async () => {
    const log: string[] = [];
    const finishQuick = new Event();
    const handler = async (stream: TcpStream): Promise<void> => {
      const name = (await stream.incoming.receive()).toString();
      try {
        if (name === "quick") {
          await finishQuick.wait();
          await stream.outgoing.send("finished in time");
          log.push("quick finished");
        } else {
          await sleepForever();
        }
      } catch (error) {
        if (isCancelled(error)) log.push(`${name} cancelled (${(error as Cancelled).origin.kind} of "${(error as Cancelled).origin.scope}"): ${(error as Cancelled).reason}`);
        throw error;
      }
    };
    let cancelledAt = 0;
    await taskGroup(async (tg) => {
      const server = new CancelScope();
      const { port } = await tg.start<AddressInfo>((status) => server.run(() => serveTcp(handler, { ...LOCAL, gracePeriod: 100 }, status)));
      await using quick = await openTcpStream("127.0.0.1", port);
      await using slow = await openTcpStream("127.0.0.1", port);
      await quick.outgoing.send("quick");
      await slow.outgoing.send("slow");
      await waitAllTasksBlocked(); // both handlers wait
      server.cancel();
      cancelledAt = performance.now();
      await expect(openTcpStream("127.0.0.1", port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      finishQuick.set(); // during the grace period
      expect(await readAll(quick)).toBe("finished in time");
      expect(await readAll(slow)).toBe(""); // closed once the grace period is over
      expect(performance.now() - cancelledAt).toBeGreaterThanOrEqual(99);
    });
    expect(log).toEqual(["quick finished", 'slow cancelled (shutdown of "serveTcp connections"): serveTcp: the server is shutting down']);
  });

  it("throws the listen error (EADDRINUSE) from start()", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const { port } = blocker.address() as AddressInfo;
    try {
      await taskGroup(async (tg) => {
        await expect(tg.start<AddressInfo>((status) => serveTcp(echo, { port, host: "127.0.0.1" }, status))).rejects.toMatchObject({
          code: "EADDRINUSE",
        });
      });
    } finally {
      blocker.close();
    }
  });

  it("rejects bad options with TypeError and RangeError naming them", async () => {
    await expect(serveTcp(echo, { port: -1 })).rejects.toThrow(new RangeError("serveTcp() port must be an integer from 0 to 65535; got -1"));
    await expect(serveTcp(echo, { port: 0, host: 1 as unknown as string })).rejects.toThrow(TypeError);
    await expect(serveTcp(echo, { port: 0, gracePeriod: Number.NaN })).rejects.toThrow(RangeError);
    await expect(serveTcp("echo" as unknown as typeof echo, LOCAL)).rejects.toThrow(TypeError);
  });
});

describe("openTcpStream", () => {
  it("throws ECONNREFUSED when nothing listens", async () => {
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, "close");
    await expect(openTcpStream("127.0.0.1", port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("receives EndOfChannel when the peer ends its side", async () => {
    await taskGroup(async (tg) => {
      const { port } = await tg.start<AddressInfo>((status) => serveTcp(async () => {}, LOCAL, status));
      await using client = await openTcpStream("127.0.0.1", port);
      await expect(client.incoming.receive()).rejects.toBeInstanceOf(EndOfChannel);
      tg.cancelScope.cancel();
    });
  });
});
