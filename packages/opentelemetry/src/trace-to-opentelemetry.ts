/**
 * Tasks, task groups and named cancel scopes as OpenTelemetry spans.
 *
 * One instrument (see `addInstrument` in `@quartet/core/lowlevel`) keeps a
 * record per living task and per spanned scope or group: the span made for it
 * (if any) and the OpenTelemetry context its code runs in. Its `wrapTask` and
 * `wrapScope` hooks call the code of a task, or the body of a group or scope,
 * inside `context.with(that context)`, so the context manager (the SDK's
 * AsyncLocalStorageContextManager) carries it into everything the code starts.
 *
 * Where spans go:
 * - a task group's (and a named scope's) span is a child of the span current
 *   where it was opened (read when it is entered, synchronously in the caller);
 * - a task's span is a child of its group's span, whatever was active where it
 *   was spawned — unless it was spawned in a context that did not come from
 *   the task tree and has a span (an incoming request's, made by an `http`
 *   instrumentation from the request's `traceparent`; a message's, extracted
 *   by the program): then it continues that span's trace as its child, and
 *   links to its group's span. Every context the tracing makes carries a
 *   mark (`TREE`), and contexts derived from them inherit it, so "came from
 *   the task tree" is one lookup;
 * - a task started with `start()` belongs to its group's span from the start (a
 *   span cannot be re-parented later); if `start()` was called in another span
 *   than the group's, its span links to that one, the span it worked for until
 *   `started()`;
 * - a run's main task, and a producer's host task, are children of the span
 *   current where they were created.
 *
 * @module
 */

import { context, createContextKey, SpanStatusCode, trace, type Attributes, type Context, type Exception, type Link, type Span, type Tracer } from "@opentelemetry/api";
import { isCancelled } from "@quartet/core";
import { addInstrument, type ScopeInfo, type TaskInfo } from "@quartet/core/lowlevel";
import { checkOptions, type OpenTelemetryTracingOptions, type SpanKinds } from "./options.js";

/** A task or a scope as the tracing knows it: its span, if it got one, and the context its code runs in. */
interface Place {
  readonly span: Span | undefined;
  readonly context: Context;
}

/** Marks the contexts the tracing makes, and so every context derived from them: code of the task tree. */
const TREE = createContextKey("@quartet/opentelemetry: the task tree");

/** `ctx`, marked as the task tree's. */
function marked(ctx: Context): Context {
  return ctx.getValue(TREE) === undefined ? ctx.setValue(TREE, true) : ctx;
}

/** Whether tracing is on (one at a time: two would nest their contexts into each other's spans). */
let tracing = false;

/**
 * Makes OpenTelemetry spans for Quartet's tasks, task groups and named cancel
 * scopes from now on, in every run of the process, until the function it
 * returns is called. Spans follow the task tree: a task's span is a child of
 * its group's span, and a group's span a child of the span that was current
 * where the group was opened (so of the task's, or scope's, that opened it).
 * And each task's code runs with its span active in OpenTelemetry's context,
 * so spans made inside it — by `tracer.startActiveSpan`, or by instrumentation
 * of `fetch`/undici, `http`, database clients — nest under it. (That needs a
 * context manager, as the SDK's `NodeTracerProvider.register()` and `NodeSDK`
 * install.)
 *
 * A span's name is what the task tree shows: `task "fetch-user"`, `task group
 * "jobs"` (or `task group` if unnamed), `cancel scope "GET /report"`; its
 * attributes `quartet.kind` and `quartet.name` say the same as data. A
 * cancellation is an event `cancelled` on the span of the scope or group that
 * was cancelled (an unnamed scope's on its task's span), with its origin as
 * attributes: `quartet.cancel.kind` (`cancel`, `deadline`, `failure`,
 * `disconnect`, …), `quartet.cancel.scope`, `quartet.cancel.task` and
 * `quartet.cancel.error` for a failure, `quartet.cancel.reason` (what was
 * given to `cancel(reason)`), and `quartet.cancel.stack` with debugging on. A
 * task, group or scope that ends by throwing an error gets status `ERROR` and
 * the exception recorded; one that ends by a cancellation gets the attribute
 * `quartet.outcome` `"cancelled"` (else `"returned"` or `"failed"`).
 *
 * A task spawned from code outside the task tree that runs in a span — a
 * request handler's task, spawned by an HTTP server while an `http`
 * instrumentation's span for the incoming request (made from its
 * `traceparent`) is current — is a child of that span instead, with a link to
 * its group's span, so that a request's work is in the request's trace. A task started with `start()` is a child of
 * the group it is started into from the start, and links to the span where
 * `start()` was called when that is another span.
 *
 * Stopping ends the spans still open (marked `quartet.unfinished`). Only one
 * tracing can be on at a time. Costs a span (and an OpenTelemetry context) per
 * task, group and named scope while on; nothing once stopped.
 *
 * @example
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { run, sleep, taskGroup } from "@quartet/core";
 * import { traceToOpenTelemetry } from "@quartet/opentelemetry";
 *
 * const stop = traceToOpenTelemetry(); // the global tracer provider, as NodeSDK sets it
 * try {
 *   await run(() =>
 *     taskGroup(async (tg) => {
 *       tg.spawn(async () => {
 *         await sleep(10);
 *         trace.getActiveSpan(); // the span of task "worker"
 *       }, { name: "worker" });
 *     }, { name: "jobs" }),
 *   );
 * } finally {
 *   stop();
 * }
 * // spans: task "main" > task group "jobs" > task "worker"
 * ```
 */
export function traceToOpenTelemetry(options?: OpenTelemetryTracingOptions): () => void {
  const { tracer, spans } = checkOptions(options);
  if (tracing) throw new Error("traceToOpenTelemetry() is already on; call the function it returned to stop it first");
  tracing = true;
  const tracks = new Tracks(tracer, spans);
  const removeInstrument = addInstrument({
    taskSpawned: (task) => tracks.spawned(task),
    taskExited: (task) => tracks.exited(task),
    wrapTask: (task, enter) => tracks.enterTask(task, enter),
    scopeEntered: (scope) => tracks.entered(scope),
    scopeCancelled: (scope) => tracks.cancelled(scope),
    scopeExited: (scope) => tracks.left(scope),
    wrapScope: (scope, enter) => tracks.enterScope(scope, enter),
  });
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    removeInstrument();
    tracks.endAll();
    tracing = false;
  };
}

/** The spans and contexts of the living tasks and spanned scopes. */
class Tracks {
  readonly #tracer: Tracer;
  readonly #spans: SpanKinds;
  readonly #tasks = new Map<number, Place>();
  /** Spanned scopes and groups, and every group (a group without a span still gives its tasks their context). */
  readonly #scopes = new Map<number, Place>();

  constructor(tracer: Tracer, spans: SpanKinds) {
    this.#tracer = tracer;
    this.#spans = spans;
  }

  // ------------------------------------------------------------------ tasks

  spawned(task: TaskInfo): void {
    const here = context.active();
    const home = task.group === undefined ? undefined : this.#scopes.get(task.group)?.context;
    let parent = here;
    let links: Link[] | undefined;
    if (home !== undefined) {
      const group = trace.getSpanContext(home);
      const current = trace.getSpanContext(here);
      if (here.getValue(TREE) === undefined && current !== undefined && trace.isSpanContextValid(current)) {
        // Spawned from outside the task tree, in a span (a request's): the task continues that span's trace.
        if (group !== undefined) links = [{ context: group, attributes: { "quartet.link": "task group" } }];
      } else {
        parent = home;
        if (task.via === "start" && current !== undefined && current.spanId !== group?.spanId) {
          links = [{ context: current, attributes: { "quartet.link": "start() caller" } }];
        }
      }
    }
    if (!this.#spans.tasks) {
      this.#tasks.set(task.id, { span: undefined, context: marked(parent) });
      return;
    }
    const span = this.#tracer.startSpan(`task "${task.name}"`, { attributes: { "quartet.kind": "task", "quartet.name": task.name }, links }, parent);
    this.#tasks.set(task.id, { span, context: marked(trace.setSpan(parent, span)) });
  }

  enterTask(task: TaskInfo, enter: () => void): void {
    enterAt(this.#tasks.get(task.id), enter);
  }

  exited(task: TaskInfo): void {
    settle(this.#tasks, task);
  }

  // ------------------------------------------------------------------ scopes and groups

  entered(scope: ScopeInfo): void {
    const here = context.active();
    const group = scope.type === "group";
    const wanted = group ? this.#spans.groups : this.#spans.scopes && scope.name !== undefined;
    if (!wanted) {
      if (group) this.#scopes.set(scope.id, { span: undefined, context: marked(here) });
      return;
    }
    const kind = group ? "task group" : "cancel scope";
    const attributes: Attributes = { "quartet.kind": kind };
    if (scope.name !== undefined) attributes["quartet.name"] = scope.name;
    const span = this.#tracer.startSpan(scope.name === undefined ? kind : `${kind} "${scope.name}"`, { attributes }, here);
    this.#scopes.set(scope.id, { span, context: marked(trace.setSpan(here, span)) });
  }

  enterScope(scope: ScopeInfo, enter: () => void): void {
    enterAt(this.#scopes.get(scope.id), enter);
  }

  cancelled(scope: ScopeInfo): void {
    // An unnamed scope's cancellation goes on the nearest span of the task that entered it.
    const task = this.#tasks.get(scope.task);
    const span = this.#scopes.get(scope.id)?.span ?? (task === undefined ? undefined : trace.getSpan(task.context));
    if (span === undefined) return;
    const origin = scope.origin!;
    const attributes: Attributes = { "quartet.cancel.kind": origin.kind };
    if (origin.scope !== undefined) attributes["quartet.cancel.scope"] = origin.scope;
    if (origin.task !== undefined) attributes["quartet.cancel.task"] = origin.task;
    if ("error" in origin) attributes["quartet.cancel.error"] = textOf(origin.error);
    if ("reason" in scope && !("error" in origin && origin.error === scope.reason)) attributes["quartet.cancel.reason"] = textOf(scope.reason);
    if (origin.stack !== undefined) attributes["quartet.cancel.stack"] = origin.stack;
    span.addEvent("cancelled", attributes);
  }

  left(scope: ScopeInfo): void {
    settle(this.#scopes, scope);
  }

  /** Tracing stops: ends the spans still open. */
  endAll(): void {
    for (const place of [...this.#tasks.values(), ...this.#scopes.values()]) {
      if (place.span === undefined) continue;
      place.span.setAttribute("quartet.unfinished", true);
      place.span.end();
    }
    this.#tasks.clear();
    this.#scopes.clear();
  }
}

/** Runs `enter` in `place`'s context, or as it is when nothing was kept for it. */
function enterAt(place: Place | undefined, enter: () => void): void {
  if (place === undefined) enter();
  else context.with(place.context, enter);
}

/** Forgets the place kept in `places` for `info` (a task or a scope that has ended), and ends its span with `info`'s outcome. */
function settle(places: Map<number, Place>, info: TaskInfo | ScopeInfo): void {
  const place = places.get(info.id);
  if (place === undefined) return;
  places.delete(info.id);
  if (place.span !== undefined) end(place.span, "error" in info, info.error);
}

/** Ends `span` with the outcome of what it stands for: it threw `error` if `threw`. */
function end(span: Span, threw: boolean, error: unknown): void {
  if (!threw) {
    span.setAttribute("quartet.outcome", "returned");
  } else if (isCancelled(error)) {
    span.setAttribute("quartet.outcome", "cancelled");
  } else {
    span.setAttribute("quartet.outcome", "failed");
    span.recordException(asException(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: textOf(error) });
  }
  span.end();
}

/** What `recordException` takes: an Error-like object as it is, anything else as text. */
function asException(error: unknown): Exception {
  if (error instanceof Error) return error;
  return textOf(error);
}

/** A value as text, the way Quartet's messages show it (`TypeError: boom`); never throws. */
function textOf(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    return String(value);
  } catch {
    return "(a value that cannot be shown as text)";
  }
}
