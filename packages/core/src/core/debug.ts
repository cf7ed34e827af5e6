/**
 * Debugging mode's call sites: where user code called into Quartet.
 *
 * Used only with debugging on (`run(main, { debug: true })` or
 * `QUARTET_DEBUG=1`), because capturing a stack costs microseconds.
 *
 * @module
 */

/** Directories whose frames are Quartet's own: this package's, and its siblings' (`@quartet/*`, or the workspace's packages). */
const internalDirs: string[] = (() => {
  const here = new URL(".", import.meta.url).pathname; // …/core/{src,dist}/core/
  const packageRoot = new URL("../../", import.meta.url).pathname; // …/core/
  const parent = new URL("../../../", import.meta.url).pathname; // …/@quartet/ or …/packages/
  const dirs = [here, packageRoot];
  if (/[\\/](@quartet|packages)[\\/]$/.test(parent)) dirs.push(parent);
  return dirs;
})();

function isInternal(line: string): boolean {
  if (line.includes("node:internal") || line.includes("(native)")) return true;
  for (const dir of internalDirs) if (line.includes(dir)) return true;
  return false;
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
  return first.trim().replace(/^at /, "");
}
