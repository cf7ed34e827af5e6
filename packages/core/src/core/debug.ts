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

/** The stack of the calling code, without Quartet's own frames. */
export function callStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  const frames = stack.split("\n").slice(1).filter((line) => !isInternal(line));
  return frames.join("\n");
}

/** The first frame of the calling code outside Quartet, as `file:line:column` (or the function's frame text). */
export function callSite(): string | undefined {
  const first = callStack().split("\n")[0];
  if (first === undefined || first === "") return undefined;
  // Paths relative to the working directory read better in a tree.
  const cwd = typeof process !== "undefined" ? `${process.cwd()}/` : "\0";
  return first.trim().replace(/^at /, "").replace("file://", "").replace(cwd, "");
}
