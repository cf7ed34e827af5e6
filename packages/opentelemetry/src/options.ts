/**
 * The options of `traceToOpenTelemetry()`, and their checks.
 *
 * @module
 */

import { trace, type Tracer, type TracerProvider } from "@opentelemetry/api";

/**
 * Options of `traceToOpenTelemetry()`: where spans go, and which to make.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { traceToOpenTelemetry, type OpenTelemetryTracingOptions } from "@quartet/opentelemetry";
 *
 * const options: OpenTelemetryTracingOptions = {
 *   tracer: trace.getTracer("my-service"),
 *   spans: { scopes: false }, // tasks and task groups only
 * };
 * const stop = traceToOpenTelemetry(options);
 * stop();
 * ```
 */
export interface OpenTelemetryTracingOptions {
  /** The tracer that makes the spans. Default: `tracerProvider.getTracer("@quartet/opentelemetry")`. */
  tracer?: Tracer;
  /** Where to get the tracer if `tracer` is not given. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /**
   * Which spans to make; each is `true` by default. `scopes` is for cancel
   * scopes with a name (`new CancelScope({ name })`, a request's scope in
   * `serveHttp`); unnamed scopes never get a span of their own. Without its
   * span, a task or a group still passes the right context on: its code runs
   * in the context it would have been a child of.
   */
  spans?: { tasks?: boolean; groups?: boolean; scopes?: boolean };
}

/** Which spans to make, every one said. */
export type SpanKinds = Required<NonNullable<OpenTelemetryTracingOptions["spans"]>>;

/** The options checked, with their defaults: the tracer, and which spans to make. */
export function checkOptions(options: OpenTelemetryTracingOptions | undefined): { tracer: Tracer; spans: SpanKinds } {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`traceToOpenTelemetry() options must be an object if given; got ${options === null ? "null" : typeof options}`);
  }
  const { tracer, tracerProvider, spans } = options ?? {};
  if (tracer !== undefined && tracerProvider !== undefined) {
    throw new TypeError("traceToOpenTelemetry() takes a tracer or a tracerProvider, not both");
  }
  if (tracer !== undefined && (tracer === null || typeof tracer !== "object" || typeof tracer.startSpan !== "function")) {
    throw new TypeError("traceToOpenTelemetry() tracer must be an OpenTelemetry Tracer (an object with startSpan())");
  }
  if (tracerProvider !== undefined && (tracerProvider === null || typeof tracerProvider !== "object" || typeof tracerProvider.getTracer !== "function")) {
    throw new TypeError("traceToOpenTelemetry() tracerProvider must be an OpenTelemetry TracerProvider (an object with getTracer())");
  }
  if (spans !== undefined && (spans === null || typeof spans !== "object")) {
    throw new TypeError(`traceToOpenTelemetry() spans must be an object if given; got ${spans === null ? "null" : typeof spans}`);
  }
  for (const key of ["tasks", "groups", "scopes"] as const) {
    const value = spans?.[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`traceToOpenTelemetry() spans.${key} must be a boolean if given; got ${typeof value}`);
    }
  }
  return {
    tracer: tracer ?? (tracerProvider ?? trace.getTracerProvider()).getTracer("@quartet/opentelemetry"),
    spans: { tasks: spans?.tasks ?? true, groups: spans?.groups ?? true, scopes: spans?.scopes ?? true },
  };
}
