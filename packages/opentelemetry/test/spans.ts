// The real OpenTelemetry SDK for the tests: an AsyncLocalStorage context manager,
// a tracer provider whose spans go to an InMemorySpanExporter through a
// SimpleSpanProcessor, and the finished spans as a tree of plain data to compare.
import { context, type AttributeValue } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll } from "vitest";
import { traceToOpenTelemetry, type OpenTelemetryTracingOptions } from "../src/index.js";

/** Installs the SDK's context manager for the tests of the calling file. */
export function useContextManager(): void {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });
}

/** The order in which spans started (their start times have only millisecond resolution). */
const startOrder = new WeakMap<object, number>();
let started = 0;

/** Numbers the spans as they start. */
const numbering: SpanProcessor = {
  onStart: (span) => void startOrder.set(span, started++),
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** A tracer provider that keeps its finished spans in memory. */
export function memoryProvider(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [numbering, new SimpleSpanProcessor(exporter)] });
  return { provider, exporter };
}

/** Tracing on into a fresh in-memory provider; stopped by `using`. */
export function tracing(spans?: OpenTelemetryTracingOptions["spans"]): Disposable & {
  provider: BasicTracerProvider;
  exporter: InMemorySpanExporter;
  stop: () => void;
  tree: () => SpanNode[];
} {
  const { provider, exporter } = memoryProvider();
  const stop = traceToOpenTelemetry({ tracerProvider: provider, spans });
  return { provider, exporter, stop, tree: () => spanTree(exporter.getFinishedSpans()), [Symbol.dispose]: stop };
}

/** A span as the tests compare it: what it is, how it ended, and its children (by start time). */
export interface SpanNode {
  name: string;
  status?: string;
  outcome?: AttributeValue;
  events?: Array<{ name: string; [attribute: string]: AttributeValue | undefined }>;
  links?: string[];
  children?: SpanNode[];
}

/** The finished spans as trees: each span under its parent (by parent span id), children in the order they started. */
export function spanTree(spans: readonly ReadableSpan[]): SpanNode[] {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && byId.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const node = (span: ReadableSpan): SpanNode => {
    const result: SpanNode = { name: span.name };
    if (span.status.code === 2) result.status = `ERROR: ${span.status.message}`;
    if (span.attributes["quartet.outcome"] !== undefined) result.outcome = span.attributes["quartet.outcome"];
    if (span.events.length > 0) {
      result.events = span.events.map((event) => {
        const attributes = { ...event.attributes };
        delete attributes["exception.stacktrace"];
        return { name: event.name, ...attributes };
      });
    }
    if (span.links.length > 0) {
      result.links = span.links.map((link) => `${link.attributes?.["quartet.link"]}: ${byId.get(link.context.spanId)?.name ?? "(a span not exported)"}`);
    }
    const mine = children.get(span.spanContext().spanId);
    if (mine !== undefined) result.children = inStartOrder(mine).map(node);
    return result;
  };
  return inStartOrder(children.get(undefined) ?? []).map(node);
}

function inStartOrder(spans: ReadableSpan[]): ReadableSpan[] {
  return [...spans].sort((a, b) => startOrder.get(a)! - startOrder.get(b)!);
}
