/**
 * The OpenTelemetry mode of the worker (`--quartet-modes opentelemetry`):
 * `traceToOpenTelemetry()` on the real SDK, with the AsyncLocalStorage context
 * manager (as `NodeTracerProvider.register()` installs it) and a span processor
 * that drops each span when it ends — the cost of making the spans and
 * carrying their contexts, without an exporter's.
 */
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { traceToOpenTelemetry } from "@quartet/opentelemetry";

const dropping: SpanProcessor = {
  onStart: () => {},
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** Turns tracing on for the rest of the process. */
export function traceOpenTelemetry(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  traceToOpenTelemetry({ tracerProvider: new BasicTracerProvider({ spanProcessors: [dropping] }) });
}
