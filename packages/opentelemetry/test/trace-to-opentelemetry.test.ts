// traceToOpenTelemetry(): the span tree of known programs, on the real SDK (in-memory exporter).
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { CancelScope, Cancelled, checkpoint, now, produce, run, sleep, sleepForever, taskGroup, type TaskGroup, type TaskStatus } from "@quartet/core";
import { MockClock } from "@quartet/testing";
import { describe, expect, it } from "vitest";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { traceToOpenTelemetry } from "../src/index.js";
import { memoryProvider, tracing, useContextManager } from "./spans.js";

useContextManager();

/** Runs `main` on virtual time. */
function virtualRun<T>(main: () => Promise<T>): Promise<T> {
  return run(main, { clock: new MockClock({ autojumpThreshold: 0 }) });
}

describe("the span tree", () => {
  it("of a group with a started service, a task that fails and a scope whose deadline passes: every span under its parent, with cancellations as events and the failure as ERROR", async () => {
    using spans = tracing();
    const tracer = spans.provider.getTracer("test");
    await virtualRun(async function main() {
      await taskGroup(async (tg) => {
        await tg.start(async function cache(status: TaskStatus) {
          status.started();
          await sleepForever();
        });
        tg.spawn(async () => {
          await new CancelScope({ name: "query", deadline: now() + 5 }).run(() => sleepForever());
          await tracer.startActiveSpan("SELECT orders", async (span) => {
            await sleep(1);
            span.end();
          });
        }, { name: "orders" });
        tg.spawn(async () => {
          await sleep(10);
          throw new TypeError("profile service down");
        }, { name: "profile" });
      }, { name: "page" }).catch((error: unknown) => expect(error).toBeInstanceOf(TypeError));
    });
    expect(spans.tree()).toEqual([
      {
        name: 'task "main"',
        outcome: "returned",
        children: [
          {
            name: 'task group "page"',
            status: "ERROR: TypeError: profile service down",
            outcome: "failed",
            events: [
              {
                name: "cancelled",
                "quartet.cancel.kind": "failure",
                "quartet.cancel.scope": "page",
                "quartet.cancel.task": "profile",
                "quartet.cancel.error": "TypeError: profile service down",
              },
              { name: "exception", "exception.type": "TypeError", "exception.message": "profile service down" },
            ],
            children: [
              { name: 'task "cache"', outcome: "cancelled" },
              {
                name: 'task "orders"',
                outcome: "returned",
                children: [
                  {
                    name: 'cancel scope "query"',
                    outcome: "returned",
                    events: [
                      {
                        name: "cancelled",
                        "quartet.cancel.kind": "deadline",
                        "quartet.cancel.scope": "query",
                        "quartet.cancel.reason": expect.stringMatching(/^TimeoutError: /),
                      },
                    ],
                  },
                  { name: "SELECT orders" },
                ],
              },
              {
                name: 'task "profile"',
                status: "ERROR: TypeError: profile service down",
                outcome: "failed",
                events: [{ name: "exception", "exception.type": "TypeError", "exception.message": "profile service down" }],
              },
            ],
          },
        ],
      },
    ]);
    const all = spans.exporter.getFinishedSpans();
    expect(new Set(all.map((span) => span.spanContext().traceId)).size).toBe(1);
  });

  it("puts a group under the span current where it was opened: a span the task made, not one it awaited before", async () => {
    using spans = tracing();
    const tracer = spans.provider.getTracer("test");
    await virtualRun(async function main() {
      await tracer.startActiveSpan("earlier", async (span) => {
        await sleep(1);
        span.end();
      });
      await taskGroup(async (tg) => tg.spawn(() => sleep(1), { name: "a" }), { name: "after" });
      await tracer.startActiveSpan("around", async (span) => {
        await taskGroup(async (tg) => tg.spawn(() => sleep(1), { name: "b" }), { name: "inside" });
        span.end();
      });
    });
    expect(spans.tree()).toEqual([
      {
        name: 'task "main"',
        outcome: "returned",
        children: [
          { name: "earlier" },
          { name: 'task group "after"', outcome: "returned", children: [{ name: 'task "a"', outcome: "returned" }] },
          {
            name: "around",
            children: [{ name: 'task group "inside"', outcome: "returned", children: [{ name: 'task "b"', outcome: "returned" }] }],
          },
        ],
      },
    ]);
  });

  it("puts a task under its group's span even when a sibling spawns it from its own span", async () => {
    using spans = tracing();
    await virtualRun(async function main() {
      await taskGroup(async (tg: TaskGroup) => {
        tg.spawn(async () => {
          await sleep(1);
          tg.spawn(() => sleep(1), { name: "second" });
        }, { name: "first" });
      }, { name: "g" });
    });
    const group = spans.tree()[0]!.children![0]!;
    expect(group.children!.map((child) => [child.name, child.children])).toEqual([
      ['task "first"', undefined],
      ['task "second"', undefined],
    ]);
  });

  it("puts a started task under the group it is started into from the start, linked to the span where start() was called", async () => {
    using spans = tracing();
    await virtualRun(async function main() {
      await taskGroup(async (services) => {
        await taskGroup(async (tg) => {
          tg.spawn(async () => {
            await services.start(async (status: TaskStatus) => {
              await sleep(1); // setup, on behalf of "manager"
              status.started();
              await sleep(5);
            }, { name: "worker" });
          }, { name: "manager" });
        }, { name: "managers" });
      }, { name: "services" });
    });
    const main = spans.tree()[0]!;
    const services = main.children![0]!;
    expect(services.name).toBe('task group "services"');
    expect(services.children!.map((child) => child.name)).toEqual(['task group "managers"', 'task "worker"']);
    expect(services.children![1]!.links).toEqual(['start() caller: task "manager"']);
    expect(services.children![0]!.children).toEqual([{ name: 'task "manager"', outcome: "returned" }]);
  });

  it("gives a started task no link when start() is called in its group's own body", async () => {
    using spans = tracing();
    await virtualRun(async function main() {
      await taskGroup(async (tg) => {
        await tg.start(async (status: TaskStatus) => status.started(), { name: "service" });
      }, { name: "g" });
    });
    expect(spans.tree()[0]!.children![0]!.children).toEqual([{ name: 'task "service"', outcome: "returned" }]);
  });

  it("continues the trace of a span from outside the task tree that a task is spawned in, linked to its group's span", async () => {
    using spans = tracing();
    const tracer = spans.provider.getTracer("test");
    let requestTrace = "";
    await virtualRun(async function main() {
      await taskGroup(async (tg) => {
        // As an http instrumentation does for an incoming request: a span from the request's headers, not from the task tree.
        const request = tracer.startSpan("GET /", {}, ROOT_CONTEXT);
        requestTrace = request.spanContext().traceId;
        context.with(trace.setSpan(ROOT_CONTEXT, request), () => tg.spawn(() => sleep(1), { name: "handler" }));
        request.end();
      }, { name: "server" });
    });
    const tree = spans.tree();
    expect(tree.map((root) => root.name)).toEqual(['task "main"', "GET /"]);
    expect(tree[1]!.children).toEqual([{ name: 'task "handler"', outcome: "returned", links: ['task group: task group "server"'] }]);
    const handler = spans.exporter.getFinishedSpans().find((span) => span.name === 'task "handler"')!;
    expect(handler.spanContext().traceId).toBe(requestTrace);
  });

  it("records a cancel() with its reason, and a cancellation of an unnamed scope on the span of the task that entered it", async () => {
    using spans = tracing();
    await virtualRun(async function main() {
      await new CancelScope({ name: "job" }).run(async (scope) => {
        scope.cancel("the operator stopped it");
        await checkpoint();
      });
      await new CancelScope({ deadline: now() + 1 }).run(() => sleepForever());
    });
    const main = spans.tree()[0]!;
    expect(main.events).toEqual([
      { name: "cancelled", "quartet.cancel.kind": "deadline", "quartet.cancel.reason": expect.stringMatching(/^TimeoutError: /) },
    ]);
    expect(main.children).toEqual([
      {
        name: 'cancel scope "job"',
        outcome: "returned",
        events: [{ name: "cancelled", "quartet.cancel.kind": "cancel", "quartet.cancel.scope": "job", "quartet.cancel.reason": "the operator stopped it" }],
      },
    ]);
  });

  it("records a thrown value that is not an Error as text", async () => {
    using spans = tracing();
    await virtualRun(async function main() {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          throw "a string"; // eslint-disable-line no-throw-literal
        }, { name: "thrower" });
      }).catch(() => {});
    });
    const thrower = spans.tree()[0]!.children![0]!.children![0]!;
    expect(thrower).toEqual({
      name: 'task "thrower"',
      status: "ERROR: a string",
      outcome: "failed",
      events: [{ name: "exception", "exception.message": "a string" }],
    });
  });

  it("makes a producer's task a span under its host task", async () => {
    using spans = tracing({ groups: false });
    await virtualRun(async function main() {
      const numbers = await produce(async (ctx) => {
        await ctx.send(1);
      }, { name: "numbers" });
      for await (const _ of numbers);
    });
    expect(spans.tree()).toEqual([
      {
        name: 'task "main"',
        outcome: "returned",
        children: [{ name: 'task "numbers (host)"', outcome: "returned", children: [{ name: 'task "numbers"', outcome: "returned" }] }],
      },
    ]);
  });
});

describe("options", () => {
  it("spans: leaves out the kinds turned off; their code still runs in the context of the span they would have been under", async () => {
    using spans = tracing({ tasks: false, scopes: false });
    const tracer = spans.provider.getTracer("test");
    await virtualRun(async function main() {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await new CancelScope({ name: "step" }).run(async () => {
            await sleep(1);
            tracer.startSpan("inside a task").end();
          });
        });
      }, { name: "g" });
    });
    expect(spans.tree()).toEqual([{ name: 'task group "g"', outcome: "returned", children: [{ name: "inside a task" }] }]);
  });

  it("tracer: spans are made with the tracer given", async () => {
    const { provider, exporter } = memoryProvider();
    const stop = traceToOpenTelemetry({ tracer: provider.getTracer("mine") });
    try {
      await virtualRun(async function main() {});
    } finally {
      stop();
    }
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.instrumentationScope.name])).toEqual([['task "main"', "mine"]]);
  });

  it("tracerProvider: its tracer is named @quartet/opentelemetry", async () => {
    using spans = tracing();
    await virtualRun(async function main() {});
    expect(spans.exporter.getFinishedSpans()[0]!.instrumentationScope.name).toBe("@quartet/opentelemetry");
  });

  it("are checked: bad values throw TypeError naming the option", () => {
    const { provider } = memoryProvider();
    expect(() => traceToOpenTelemetry(null as never)).toThrow(/^traceToOpenTelemetry\(\) options must be an object if given; got null$/);
    expect(() => traceToOpenTelemetry({ tracer: provider.getTracer("x"), tracerProvider: provider })).toThrow(/a tracer or a tracerProvider, not both/);
    expect(() => traceToOpenTelemetry({ tracer: {} as never })).toThrow(/tracer must be an OpenTelemetry Tracer/);
    expect(() => traceToOpenTelemetry({ tracerProvider: 5 as never })).toThrow(/tracerProvider must be an OpenTelemetry TracerProvider/);
    expect(() => traceToOpenTelemetry({ spans: "all" as never })).toThrow(/spans must be an object if given; got string/);
    expect(() => traceToOpenTelemetry({ spans: { tasks: 1 as never } })).toThrow(/spans\.tasks must be a boolean if given; got number/);
    expect(() => traceToOpenTelemetry({ spans: null as never })).toThrow(TypeError);
  });
});

describe("stopping", () => {
  it("ends the spans still open, marked unfinished; afterwards no span is made, and a task runs in the context where it was spawned", async () => {
    const spans = tracing();
    const tracer = spans.provider.getTracer("test");
    let seenAfter: ReadableSpan | undefined;
    await virtualRun(async function main() {
      await taskGroup(async (tg) => {
        tg.spawn(() => sleep(10), { name: "long" });
        await sleep(1);
        spans.stop();
        spans.stop(); // a second call does nothing
        tg.spawn(async () => {
          seenAfter = trace.getActiveSpan() as ReadableSpan | undefined;
        }, { name: "after" });
      }, { name: "g" });
    });
    const unfinished = spans.exporter.getFinishedSpans().filter((span) => span.attributes["quartet.unfinished"] === true);
    expect(unfinished.map((span) => span.name).sort()).toEqual(['task "long"', 'task "main"', 'task group "g"']);
    expect(spans.exporter.getFinishedSpans()).toHaveLength(3);
    // "after" has no span: it runs in the context where it was spawned, the group's body's, entered while tracing was on.
    expect(seenAfter?.name).toBe('task group "g"');
    tracer.startSpan("unrelated").end();
    expect(spans.exporter.getFinishedSpans()).toHaveLength(4);
  });

  it("is needed before tracing is turned on again: only one tracing at a time", () => {
    const first = traceToOpenTelemetry({ tracerProvider: memoryProvider().provider });
    try {
      expect(() => traceToOpenTelemetry()).toThrow("traceToOpenTelemetry() is already on; call the function it returned to stop it first");
    } finally {
      first();
    }
    traceToOpenTelemetry({ tracerProvider: memoryProvider().provider })();
  });

  it("a Cancelled that leaves a task marks it cancelled, not failed", async () => {
    using spans = tracing();
    await virtualRun(async function main() {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          try {
            await sleepForever();
          } catch (error) {
            expect(error).toBeInstanceOf(Cancelled);
            throw error;
          }
        }, { name: "sleeper" });
        await sleep(1);
        tg.cancelScope.cancel();
      }, { name: "g" });
    });
    const group = spans.tree()[0]!.children![0]!;
    expect(group.outcome).toBe("returned"); // it caught its own cancellation
    expect(group.children).toEqual([{ name: 'task "sleeper"', outcome: "cancelled" }]);
  });
});
