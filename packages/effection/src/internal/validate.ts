/**
 * Argument checks for the public functions of `@quartet/effection`: wrong types
 * throw `TypeError`, bad numbers `RangeError`; messages name the argument and
 * show the value that was given (the style of `@quartet/core`'s own checks).
 *
 * @module
 */

import type { Operation } from "effection";

/** A short, safe rendering of a value for an error message. */
export function describe(value: unknown): string {
  try {
    if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
    if (value === null || typeof value !== "object") return typeof value === "symbol" ? value.toString() : String(value);
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    const name = (value as object).constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  } catch {
    return "a value that cannot be described"; // a getter or Proxy trap that throws
  }
}

/** Whether `value` is an effection operation: an object with a `[Symbol.iterator]()` method. */
export function isOperation(value: unknown): value is Operation<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

export function requireFunction(value: unknown, what: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") throw new TypeError(`${what} must be a function; got ${describe(value)}`);
}

export function requireOptionalObject(value: unknown, what: string): asserts value is object | undefined {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(`${what} must be an object if given; got ${describe(value)}`);
  }
}
