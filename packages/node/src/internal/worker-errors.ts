/**
 * Errors and other thrown values across a thread boundary. The structured
 * clone algorithm keeps only the built-in error classes and drops `cause` on
 * older Nodes, so an error is sent as plain data — class name, message, stack,
 * `cause`, an `AggregateError`'s `errors`, and own fields such as `code` — and
 * rebuilt on the other side with the prototype of the class of that name if the
 * receiving thread knows it (the built-in errors and Quartet's), else as an
 * `Error` whose `name` is the original class name.
 *
 * Used by both threads of `runInWorker`: the worker encodes what its function
 * threw, the caller encodes its cancellation's reason.
 *
 * @module
 */

import {
  BrokenResourceError,
  ClosedResourceError,
  DeadlockError,
  EndOfChannel,
  TaskGroupError,
  TimeoutError,
  WouldBlock,
} from "@quartet/core";

/** A thrown value as plain data that any thread can receive. */
export type EncodedThrown =
  | { readonly kind: "error"; readonly error: EncodedError }
  | { readonly kind: "value"; readonly value: unknown }
  | { readonly kind: "text"; readonly text: string };

export interface EncodedError {
  readonly name: string;
  /** The name of the nearest class in the prototype chain that the other thread can know (`"TypeError"` for a subclass of it). */
  readonly base: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly cause?: EncodedThrown;
  readonly errors?: readonly EncodedThrown[];
  /** Own enumerable fields that clone (`code`, `errno`, `path`, …). */
  readonly fields: Record<string, unknown>;
}

/** How deep `cause` and `errors` are followed; deeper, an error's cause is its text. */
const MAX_DEPTH = 8;
/** At most this many of an `AggregateError`'s `errors` are sent. */
const MAX_ERRORS = 100;

/** The error classes rebuilt as themselves (the built-in ones and Quartet's; `Cancelled` is not: see `decodeThrown`). */
const KNOWN: Readonly<Record<string, { prototype: Error }>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
  TimeoutError,
  EndOfChannel,
  ClosedResourceError,
  BrokenResourceError,
  WouldBlock,
  TaskGroupError,
  DeadlockError,
};

/** `value` as plain data for `postMessage`. Never throws. */
export function encodeThrown(value: unknown, depth = 0): EncodedThrown {
  try {
    if (value instanceof Error) {
      if (depth >= MAX_DEPTH) return { kind: "text", text: String(value) };
      return { kind: "error", error: encodeError(value, depth) };
    }
    return { kind: "value", value: structuredClone(value) };
  } catch {
    return { kind: "text", text: safeString(value) };
  }
}

function encodeError(error: Error, depth: number): EncodedError {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === "cause" || key === "errors" || key === "reason" || key === "origin") continue;
    try {
      fields[key] = structuredClone((error as unknown as Record<string, unknown>)[key]);
    } catch {
      // a field that does not clone (a function, a socket) stays behind
    }
  }
  const encoded: { -readonly [K in keyof EncodedError]: EncodedError[K] } = {
    name: safeString(error.name),
    base: knownBase(error),
    message: safeString(error.message),
    stack: typeof error.stack === "string" ? error.stack : undefined,
    fields,
  };
  if ("cause" in error) encoded.cause = encodeThrown(error.cause, depth + 1);
  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    encoded.errors = error.errors.slice(0, MAX_ERRORS).map((inner: unknown) => encodeThrown(inner, depth + 1));
  }
  return encoded;
}

/** The name of the first class in `error`'s prototype chain that is in `KNOWN`. */
function knownBase(error: Error): string {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = proto.constructor?.name;
    if (typeof name === "string" && KNOWN[name]?.prototype === proto) return name;
  }
  return "Error";
}

/**
 * The value that `encodeThrown` encoded, rebuilt in this thread: an error of
 * the same class if this thread knows it (with its message, stack, `cause`,
 * `errors` and fields), else an `Error` with the original `name`. A `Cancelled`
 * is never rebuilt as one (a cancellation of another thread's scope is not
 * this thread's): it arrives as an `Error` named "Cancelled".
 */
export function decodeThrown(encoded: EncodedThrown): unknown {
  switch (encoded.kind) {
    case "value":
      return encoded.value;
    case "text":
      return encoded.text;
    case "error":
      return decodeError(encoded.error);
  }
}

function decodeError(encoded: EncodedError): Error {
  const error: Error = Object.create((KNOWN[encoded.base] ?? Error).prototype);
  Object.assign(error, encoded.fields);
  define(error, "message", encoded.message);
  if (encoded.name !== error.name) define(error, "name", encoded.name);
  define(error, "stack", encoded.stack ?? `${encoded.name}: ${encoded.message}`);
  if (encoded.cause !== undefined) define(error, "cause", decodeThrown(encoded.cause));
  if (encoded.errors !== undefined) define(error, "errors", encoded.errors.map(decodeThrown));
  return error;
}

/** An own property as the Error constructor makes them: writable, configurable, not enumerable. */
function define(error: Error, key: string, value: unknown): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
