/**
 * Argument checks for the public functions of `@quartet/node`. Wrong types
 * throw `TypeError`, bad numbers `RangeError`; messages name the argument and
 * show the value that was given (the same style as `@quartet/core`'s own checks).
 *
 * @module
 */

/** A short, safe rendering of a value for an error message. */
export function describe(value: unknown): string {
  try {
    return describeUnsafely(value);
  } catch {
    return "a value that cannot be described"; // a getter or Proxy trap that throws
  }
}

function describeUnsafely(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const name = (value as object).constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "an object";
}

export function requireFunction(value: unknown, what: string): void {
  if (typeof value !== "function") throw new TypeError(`${what} must be a function; got ${describe(value)}`);
}

export function requireOptionalFunction(value: unknown, what: string): void {
  if (value !== undefined) requireFunction(value, what);
}

export function requireObject(value: unknown, what: string): asserts value is object {
  if (value === null || typeof value !== "object") throw new TypeError(`${what} must be an object; got ${describe(value)}`);
}

export function requireOptionalObject(value: unknown, what: string): asserts value is object | undefined {
  if (value !== undefined) requireObject(value, `${what} (if given)`);
}

export function requireString(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string; got ${describe(value)}`);
}

export function requireOptionalString(value: unknown, what: string): asserts value is string | undefined {
  if (value !== undefined) requireString(value, `${what} (if given)`);
}

/** A length of time in ms: a number, not NaN, not negative; `Infinity` allowed. */
export function requireOptionalDuration(value: unknown, what: string): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== "number") throw new TypeError(`${what} must be a number of milliseconds; got ${describe(value)}`);
  if (Number.isNaN(value) || value < 0) throw new RangeError(`${what} must be a non-negative number of milliseconds; got ${value}`);
}

/** A length of time in ms that must be more than 0; `Infinity` allowed (for no limit). */
export function requirePositiveDuration(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number of milliseconds; got ${describe(value)}`);
  if (Number.isNaN(value) || value <= 0) throw new RangeError(`${what} must be a positive number of milliseconds (Infinity for no limit); got ${value}`);
}

/** A number of bytes: a non-negative integer, or `Infinity` (for no limit). */
export function requireByteCount(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number of bytes; got ${describe(value)}`);
  if (value !== Infinity && (!Number.isInteger(value) || value < 0)) {
    throw new RangeError(`${what} must be a non-negative integer number of bytes (Infinity for no limit); got ${value}`);
  }
}

/** A TCP port: an integer from 0 (any free port) to 65535. */
export function requirePort(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number; got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`${what} must be an integer from 0 to 65535; got ${value}`);
  }
}

/** One of a fixed set of strings. */
export function requireOneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(`${what} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}; got ${describe(value)}`);
  }
}

/** An object with the named methods: how the adapters recognize streams and channels (from any realm or library). */
export function requireMethods(value: unknown, methods: readonly string[], what: string, kind: string): void {
  const candidate = value as Record<string, unknown> | null;
  if (candidate === null || typeof candidate !== "object" || !methods.every((method) => typeof candidate[method] === "function")) {
    throw new TypeError(`${what} must be ${kind}; got ${describe(value)}`);
  }
}
