/**
 * Debugging mode's call sites: where user code called into Quartet.
 *
 * Used only with debugging on (`run(main, { debug: true })` or
 * `QUARTET_DEBUG=1`), because capturing a stack costs microseconds.
 *
 * @module
 */

/**
 * Quartet's own code: the `src` and `dist` directories of this package and of
 * its siblings (`node_modules/@quartet/*`, or the workspace's `packages/*`),
 * not their tests.
 */
const ownCode: RegExp = (() => {
  const source = new URL("../", import.meta.url).pathname; // …/core/src/ or …/core/dist/
  const parent = new URL("../../../", import.meta.url).pathname; // …/@quartet/ or …/packages/
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (/[\\/](@quartet|packages)[\\/]$/.test(parent)) return new RegExp(`${escape(parent)}[^/\\\\]+[/\\\\](src|dist)[/\\\\]`);
  if (/[\\/](src|dist)[\\/]$/.test(source)) return new RegExp(escape(source));
  // Bundled into one file with other code: only this file's own frames can be told apart, and
  // only as the whole file (call sites in the same bundle are then not found).
  return new RegExp(`${escape(new URL(import.meta.url).pathname)}:`);
})();

function isInternal(line: string): boolean {
  if (line.includes("(node:") || line.includes("at node:") || line.includes("(native)")) return true;
  return ownCode.test(line);
}

/** The user's frames of a stack, without Quartet's own frames. */
function userFrames(stack: string): string[] {
  return stack.split("\n").slice(1).filter((line) => !isInternal(line));
}

/** The stack of the calling code, without Quartet's own frames. */
export function callStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  return userFrames(stack).join("\n");
}

/**
 * A call site, captured now and put into words only when asked for: V8 formats
 * a stack lazily, on the first read of `.stack`, and formatting is most of what
 * a capture costs. The captured frames are held until then (the record lives as
 * long as the block it describes).
 */
export class CallSite {
  readonly #capture: { stack?: string };
  #text: string | undefined | null = null;

  constructor() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 16; // enough to get past Quartet's own frames of a blocking call
    this.#capture = new Error();
    Error.stackTraceLimit = limit;
  }

  /** The first frame of the calling code outside Quartet, as text; `undefined` if none was found. */
  get text(): string | undefined {
    if (this.#text === null) this.#text = siteText(userFrames(this.#capture.stack ?? "")[0]);
    return this.#text;
  }
}

/** A frame as shown in the tree: without "at", with paths relative to the working directory. */
function siteText(frame: string | undefined): string | undefined {
  if (frame === undefined || frame === "") return undefined;
  const cwd = typeof process !== "undefined" ? `${process.cwd()}/` : "\0";
  return frame.trim().replace(/^at /, "").replace("file://", "").replace(cwd, "");
}
