/**
 * `@quartet/opentelemetry`: Quartet's tasks, task groups and named cancel
 * scopes as OpenTelemetry spans, parented by the task tree, with each task's
 * code running in its span's context.
 *
 * @module @quartet/opentelemetry
 */
export type { OpenTelemetryTracingOptions } from "./options.js";
export { traceToOpenTelemetry } from "./trace-to-opentelemetry.js";
