import { describe, expect, it } from "vitest";
import {
  BrokenResourceError,
  Cancelled,
  ClosedResourceError,
  EndOfChannel,
  TaskGroupError,
  TimeoutError,
  WouldBlock,
  isCancelled,
} from "../src/index.js";

describe("error classes", () => {
  const classes = { Cancelled, TimeoutError, EndOfChannel, ClosedResourceError, BrokenResourceError, WouldBlock, TaskGroupError };

  it.each(Object.entries(classes))("%s extends Error and is named after its class", (name, Class) => {
    const error = Class === TaskGroupError ? new TaskGroupError([new Error("a"), new Error("b")]) : new (Class as typeof Error)("message");
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(Class);
    expect(error.name).toBe(name);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
  });

  it("TaskGroupError is an AggregateError listing its errors in its message", () => {
    const error = new TaskGroupError([new TypeError("bad type"), "a string"], "workers");
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.errors).toHaveLength(2);
    expect(error.message).toBe('2 tasks failed in task group "workers": TypeError: bad type; a string');
  });

  it("Cancelled carries its reason and mentions it in the message", () => {
    const cause = new Error("shutting down");
    expect(new Cancelled(cause).reason).toBe(cause);
    expect(new Cancelled(cause).message).toContain("shutting down");
    expect(new Cancelled().reason).toBeUndefined();
  });
});

describe("isCancelled", () => {
  it("recognises Cancelled and an AbortError caused by one, and nothing else outside a cancelled scope", () => {
    const cancelled = new Cancelled();
    expect(isCancelled(cancelled)).toBe(true);
    expect(isCancelled(new DOMException("aborted", "AbortError"))).toBe(false);
    expect(isCancelled(Object.assign(new Error("x"), { name: "AbortError", cause: cancelled }))).toBe(true);
    expect(isCancelled(new Error("plain"))).toBe(false);
    expect(isCancelled(undefined)).toBe(false);
    expect(isCancelled("Cancelled")).toBe(false);
  });
});

describe("cancellations wrapped by using-disposal", () => {
  it("a SuppressedError made of two cancellations is a cancellation; one with a real error is not", () => {
    const suppressed = (error: unknown, inner: unknown) => Object.assign(new Error("suppressed"), { name: "SuppressedError", error, suppressed: inner });
    expect(isCancelled(suppressed(new Cancelled(), new Cancelled()))).toBe(true);
    expect(isCancelled(suppressed(new Cancelled(), new Error("disposer broke")))).toBe(false);
    expect(isCancelled(suppressed(new Error("body broke"), new Cancelled()))).toBe(false);
  });

  it("a task group treats a disposer's Cancelled thrown during a cancelled unwind as part of the cancellation", async () => {
    const { CancelScope, checkpoint, taskGroup } = await import("../src/index.js");
    const scope = new CancelScope();
    await scope.run(async () => {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await using _resource = { [Symbol.asyncDispose]: () => checkpoint() }; // throws Cancelled while disposing
          scope.cancel();
          await checkpoint();
        });
      });
    });
    expect(scope.cancelledCaught).toBe(true);
  });
});
