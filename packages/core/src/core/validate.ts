/**
 * Argument checks shared by the public functions. Wrong types throw
 * `TypeError`, bad numbers `RangeError`; messages name the argument and show
 * the value that was given.
 *
 * @module
 */

/**
 * The option every primitive takes: a name, shown in the task tree
 * (`formatTaskTree()`, deadlock reports) and given to instruments, so that a
 * blocked task says which channel, lock or event it waits on.
 *
 * @example
 * ```ts
 * import { Event, Lock, openMemoryChannel } from "@quartet/core";
 *
 * const [send, receive] = openMemoryChannel<string>(10, { name: "jobs" });
 * const dbLock = new Lock({ name: "db" });
 * const ready = new Event({ name: "config loaded" });
 * ```
 */
export interface NameOptions {
  /** A name for the object, for the task tree and instruments. */
  name?: string;
}

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
  if (typeof value === "function") return;
  if (value instanceof Promise) {
    // `tg.spawn(work())` instead of `tg.spawn(work)`: the work is already running outside any
    // task. Mark its promise handled, so that its later rejection does not kill the process
    // on top of this error, and say what to write instead.
    value.then(undefined, ignore);
    throw new TypeError(`${what} must be a function; got a Promise (the work was already running: pass a function that starts it, such as () => work())`);
  }
  throw new TypeError(`${what} must be a function; got ${describe(value)}`);
}

function ignore(): void {}

/** A length of time in ms: a number, not NaN, not negative; `Infinity` allowed. */
export function requireDuration(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number of milliseconds; got ${describe(value)}`);
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative number of milliseconds; got ${value}`);
  }
}

/** A point in time on the runtime clock: a number, not NaN; ±Infinity allowed. */
export function requireDeadline(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number (ms on the runtime clock); got ${describe(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${what} must not be NaN`);
}

export function requireBoolean(value: unknown, what: string): asserts value is boolean {
  if (typeof value !== "boolean") throw new TypeError(`${what} must be a boolean; got ${describe(value)}`);
}

export function requireOptionalObject(value: unknown, what: string): asserts value is object | undefined {
  if (value !== undefined && (value === null || typeof value !== "object")) {
    throw new TypeError(`${what} must be an object if given; got ${describe(value)}`);
  }
}

/** The `name` of a primitive's options, checked. */
export function nameOption(options: NameOptions | undefined, what: string): string | undefined {
  requireOptionalObject(options, `${what} options`);
  requireOptionalName(options?.name, `${what} name`);
  return options?.name;
}

export function requireOptionalName(value: unknown, what: string): asserts value is string | undefined {
  if (value !== undefined && typeof value !== "string") throw new TypeError(`${what} must be a string if given; got ${describe(value)}`);
}
