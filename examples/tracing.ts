// Tasks as OpenTelemetry spans: a checkout with a started service, a step with a
// deadline, a database query made inside a task, and a failure. The spans are
// kept in memory and printed as a tree at the end (a real program sends them to
// an exporter instead). Run it with `pnpm tsx examples/tracing.ts`.
import { trace } from "@opentelemetry/api";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { CancelScope, now, run, sleep, sleepForever, taskGroup, type TaskStatus } from "@quartet/core";
import { traceToOpenTelemetry } from "@quartet/opentelemetry";

/** A span processor that keeps the spans, in the order they started, to print them as a tree. */
class SpanTree implements SpanProcessor {
  readonly #spans: ReadableSpan[] = [];

  onStart(span: ReadableSpan): void {
    this.#spans.push(span);
  }
  onEnd(): void {}
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}

  /** One line per span, indented under its parent, with how it ended and its cancellation events. */
  format(): string {
    const lines: string[] = [];
    const childrenOf = (parent: string | undefined) => this.#spans.filter((span) => span.parentSpanContext?.spanId === parent);
    const walk = (span: ReadableSpan, prefix: string, last: boolean, root: boolean): void => {
      const outcome = span.status.code === 2 ? ` — ERROR: ${span.status.message}` : span.attributes["quartet.outcome"] === "cancelled" ? " — cancelled" : "";
      lines.push(`${prefix}${root ? "" : last ? "└─ " : "├─ "}${span.name}${outcome}`);
      const inner = root ? "" : prefix + (last ? "   " : "│  ");
      const children = childrenOf(span.spanContext().spanId);
      for (const event of span.events.filter((event) => event.name === "cancelled")) {
        const { "quartet.cancel.kind": kind, "quartet.cancel.task": task, "quartet.cancel.error": error } = event.attributes ?? {};
        lines.push(`${inner}${children.length > 0 ? "│" : " "}  · cancelled (${kind})${task === undefined ? "" : `: task "${task}" failed with ${error}`}`);
      }
      children.forEach((child, i) => walk(child, inner, i === children.length - 1, false));
    };
    for (const root of childrenOf(undefined)) walk(root, "", true, true);
    return lines.join("\n");
  }
}

// #region setup
const spans = new SpanTree(); // in a real program: new BatchSpanProcessor(new OTLPTraceExporter())
const provider = new NodeTracerProvider({ spanProcessors: [spans] });
provider.register(); // the global tracer provider, and the context manager that carries spans through awaits
const stopTracing = traceToOpenTelemetry();
// #endregion

// #region program
const tracer = trace.getTracer("shop");

async function priceCache(status: TaskStatus): Promise<void> {
  status.started(); // ready: tg.start() returns
  await sleepForever(); // serves until the checkout ends
}

async function loadCart(): Promise<void> {
  // Try the cache for 20 ms, then ask the database.
  await new CancelScope({ name: "cart cache", deadline: now() + 20 }).run(() => sleep(1000));
  await tracer.startActiveSpan("SELECT cart", async (span) => {
    await sleep(10); // the query; its span is a child of the task's
    span.end();
  });
}

async function chargeCard(): Promise<void> {
  await sleep(200);
  throw new Error("card declined");
}

await run(async function main() {
  try {
    await taskGroup(async (tg) => {
      await tg.start(priceCache, { name: "price cache" });
      tg.spawn(loadCart, { name: "load cart" });
      tg.spawn(chargeCard, { name: "charge card" });
    }, { name: "checkout" });
  } catch (error) {
    console.log(`checkout failed: ${(error as Error).message}`);
  }
});
// #endregion

stopTracing();
console.log(`\n${spans.format()}`);
await provider.shutdown();
