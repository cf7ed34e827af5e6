/**
 * Child processes as tasks: `runProcess`.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { CancelScope, TASK_STATUS_IGNORED, checkpoint, moveOnAfter, type ReceiveChannel, type TaskStatus } from "@quartet/core";
import { ProcessError } from "./errors.js";
import { ChildTarget } from "./internal/children.js";
import { sleepReal, waitForCloseWithin, waitForEvent } from "./internal/events.js";
import {
  describe,
  requireOneOf,
  requireOptionalDuration,
  requireOptionalObject,
  requireOptionalString,
  requireString,
} from "./internal/validate.js";
import { fromReadable } from "./readable.js";
import { toWritable, type WritableChannel } from "./writable.js";

// ------------------------------------------------------------------- options, result, running process

/**
 * What becomes of a child's output stream: `"collect"` gathers it into the
 * result, `"pipe"` hands it out as a channel on the {@link RunningProcess}
 * (with `tg.start()` only), `"inherit"` shares this process's stream, and
 * `"ignore"` discards it.
 *
 * @example
 * ```ts
 * import { runProcess } from "@quartet/node";
 *
 * // The build's progress goes straight to this terminal; stderr is kept for the ProcessError.
 * await runProcess("npm", ["run", "build"], { stdout: "inherit", stderr: "collect" });
 * await runProcess("git", ["fetch"], { stdout: "ignore", stderr: "ignore" }); // quiet
 * ```
 */
export type OutputMode = "collect" | "pipe" | "inherit" | "ignore";

/**
 * Options of {@link runProcess}.
 *
 * @example
 * ```ts
 * import { runProcess } from "@quartet/node";
 *
 * const { code, stdout } = await runProcess("grep", ["-c", "error"], {
 *   input: "ok\nerror: disk full\nok\n", // written to grep's stdin, which is then closed
 *   env: { ...process.env, LC_ALL: "C" },
 *   check: false, // grep exits with 1 when no line matches: not a failure here
 *   gracePeriod: 1000, // if cancelled: SIGTERM, then SIGKILL a second later
 *   drainTimeout: 200, // after grep exits, wait at most 200 ms for the rest of its output
 * });
 *
 * // A shell script and everything it starts, stopped together when cancelled:
 * await runProcess("sh", ["-c", "make -j4 all"], { processGroup: true, stdout: "inherit" });
 * console.log(code, stdout.toString()); // 0 "1\n"
 * ```
 */
export interface ProcessOptions {
  /** The child's working directory. Default: this process's. */
  cwd?: string;
  /** The child's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Text or bytes written to the child's stdin, which is then closed. */
  input?: string | Uint8Array;
  /**
   * The child's stdin when no `input` is given: `"ignore"` (the default: it
   * reads end-of-file at once), `"pipe"` (a channel on the
   * {@link RunningProcess}, with `tg.start()` only) or `"inherit"`.
   */
  stdin?: "pipe" | "inherit" | "ignore";
  /** What becomes of the child's stdout. Default `"collect"`. */
  stdout?: OutputMode;
  /** What becomes of the child's stderr. Default `"collect"`. */
  stderr?: OutputMode;
  /** Whether a non-zero exit (or death by a signal) throws {@link ProcessError}. Default `true`. */
  check?: boolean;
  /** Milliseconds between SIGTERM and SIGKILL when the process is cancelled. Default 5000. */
  gracePeriod?: number;
  /**
   * How long, in ms, `runProcess` waits after the child has exited for the
   * output it collects to end. The output ends at once when the child exits,
   * unless a process it started (a grandchild) still holds the pipe: then,
   * after this time, `runProcess` stops reading and returns what it has (the
   * time is the real clock's, not the runtime's). Default 500.
   */
  drainTimeout?: number;
  /**
   * Whether the child gets a process group of its own, so that everything it
   * starts can be signalled with it (POSIX only; ignored on Windows). Then
   * cancellation (SIGTERM, SIGKILL after `gracePeriod`), `kill()` and the kill
   * at this process's exit go to the whole group, and when the child has
   * exited, whatever is left of its group is terminated the same way before
   * `runProcess` returns. The child is started in a new session (`detached`),
   * so it no longer gets the terminal's Ctrl-C itself (`runMain` cancels it
   * instead) and cannot read from the terminal. Default `false`: signals go to
   * the child only, and processes it started may outlive it.
   */
  processGroup?: boolean;
}

/**
 * How a child process ended, and what it printed (for the streams that were collected).
 *
 * @example
 * ```ts
 * import { runProcess, type ProcessResult } from "@quartet/node";
 *
 * const result: ProcessResult = await runProcess("sh", ["-c", "echo out; echo err >&2; exit 3"], { check: false });
 * console.log(result.code, result.signal); // 3 null
 * console.log(result.stdout.toString(), result.stderr.toString()); // "out\n" "err\n"
 * ```
 */
export interface ProcessResult {
  /** The exit code, or `null` if the child was killed by a signal. */
  readonly code: number | null;
  /** The signal that killed the child, or `null`. */
  readonly signal: NodeJS.Signals | null;
  /** Its standard output, if collected; else empty. */
  readonly stdout: Buffer;
  /** Its standard error, if collected; else empty. */
  readonly stderr: Buffer;
}

/**
 * A child process that is running, as handed to `started()` when
 * `runProcess` runs under `tg.start()`. Its `stdin`, `stdout` and `stderr` are
 * channels if they were opened with `"pipe"`; reading one that was not throws.
 *
 * @example
 * ```ts
 * import { taskGroup } from "@quartet/core";
 * import { runProcess, type RunningProcess } from "@quartet/node";
 *
 * await taskGroup(async (tg) => {
 *   const sort = await tg.start<RunningProcess>((status) =>
 *     runProcess("sort", [], { stdin: "pipe", stdout: "pipe" }, status),
 *   );
 *   for (const word of ["pear", "apple", "fig"]) await sort.stdin.send(`${word}\n`);
 *   await sort.stdin.finish(); // end-of-file: now sort prints
 *   for await (const chunk of sort.stdout) process.stdout.write(chunk); // apple, fig, pear
 * });
 * ```
 */
export interface RunningProcess {
  /** The child's process id. */
  readonly pid: number;
  /** A channel to the child's stdin (`stdin: "pipe"`); close it (or `finish()` it) to send end-of-file. */
  readonly stdin: WritableChannel<Uint8Array | string>;
  /** The chunks of the child's stdout (`stdout: "pipe"`), with backpressure: the child waits while nobody reads. */
  readonly stdout: ReceiveChannel<Buffer>;
  /** The chunks of the child's stderr (`stderr: "pipe"`). */
  readonly stderr: ReceiveChannel<Buffer>;
  /** Sends `signal` (default `"SIGTERM"`) to the child (with `processGroup`, to its whole group); false if it could not be delivered. */
  kill(signal?: NodeJS.Signals | number): boolean;
}

const OUTPUT_MODES: readonly OutputMode[] = ["collect", "pipe", "inherit", "ignore"];
const STDIN_MODES = ["pipe", "inherit", "ignore"] as const;
/** How much of stderr a ProcessError quotes. */
const TAIL_LINES = 10;
const TAIL_CHARS = 2000;

// ------------------------------------------------------------------- runProcess

/**
 * Runs a child process as part of the calling task, and returns how it ended.
 *
 * Awaited directly, it waits for the child to exit and returns its exit status
 * with its stdout and stderr collected (`{ code, signal, stdout, stderr }`).
 * A non-zero exit, or death by a signal, throws a {@link ProcessError} with the
 * code and the tail of stderr (unless `check: false`) — or, if the calling
 * scope has been cancelled by then, the `Cancelled`: a child that died of the
 * same stroke that cancelled the caller (a terminal's Ctrl-C reaches both) did
 * not fail.
 *
 * Under `tg.start()` it hands a {@link RunningProcess} to `started()` as soon as
 * the child has been spawned, and goes on running in the group until the child
 * exits (a failure then goes to the group). That is the shape for long-running
 * children and for streaming: with `stdin`, `stdout` or `stderr` set to
 * `"pipe"`, the running process has them as channels with backpressure.
 *
 * Cancellation terminates the child: SIGTERM, then SIGKILL if it has not exited
 * `gracePeriod` ms later; `runProcess` waits for the exit before the
 * cancellation goes on, so no child outlives its task (the same happens if
 * anything else fails while the child runs, such as `started()`). Nor does a
 * child outlive this process: if it exits while children of `runProcess` still
 * run (a second Ctrl-C under `runMain`, `process.exit()`, an uncaught
 * exception), they get SIGKILL on the way out.
 *
 * Grandchildren — processes the child started — are not the child: signals go
 * to the child only, so they may outlive it, and this process. With
 * `processGroup: true` the child leads a process group of its own, and every
 * signal goes to the whole group; when the child has exited, what is left of
 * its group is terminated before `runProcess` returns.
 *
 * Output that is collected is read as it comes, so a child never blocks on a
 * full pipe that nobody reads; output that is piped is read only as the channel
 * is received from. `runProcess` returns once the child has exited and the
 * collected output has ended — or `drainTimeout` ms after the exit, if a
 * grandchild keeps the output pipe open.
 *
 * A command that cannot be started throws the spawn error (`ENOENT`, `EACCES`).
 *
 * @example
 * ```ts
 * import { runProcess } from "@quartet/node";
 *
 * const { stdout } = await runProcess("git", ["rev-parse", "HEAD"]);
 * console.log(stdout.toString().trim());
 * ```
 *
 * @example
 * A long-running child, streaming its output:
 * ```ts
 * import { taskGroup } from "@quartet/core";
 * import { runProcess, type RunningProcess } from "@quartet/node";
 *
 * await taskGroup(async (tg) => {
 *   const ping = await tg.start<RunningProcess>((status) =>
 *     runProcess("ping", ["-c", "3", "127.0.0.1"], { stdout: "pipe" }, status),
 *   );
 *   for await (const chunk of ping.stdout) process.stdout.write(chunk);
 * });
 * ```
 */
export async function runProcess(
  command: string,
  args: readonly string[] = [],
  options: ProcessOptions = {},
  status: TaskStatus<RunningProcess> = TASK_STATUS_IGNORED,
): Promise<ProcessResult> {
  requireString(command, "runProcess() command");
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) {
    throw new TypeError(`runProcess() args must be an array of strings; got ${describe(args)}`);
  }
  requireOptionalObject(options, "runProcess() options");
  const { cwd, env, input, check = true, gracePeriod = 5000, drainTimeout = 500, processGroup = false } = options;
  const stdoutMode = options.stdout ?? "collect";
  const stderrMode = options.stderr ?? "collect";
  requireOptionalString(cwd, "runProcess() cwd");
  requireOptionalObject(env, "runProcess() env");
  requireOneOf(stdoutMode, OUTPUT_MODES, "runProcess() stdout");
  requireOneOf(stderrMode, OUTPUT_MODES, "runProcess() stderr");
  if (options.stdin !== undefined) requireOneOf(options.stdin, STDIN_MODES, "runProcess() stdin");
  if (input !== undefined && typeof input !== "string" && !(input instanceof Uint8Array)) {
    throw new TypeError(`runProcess() input must be a string or a Uint8Array; got ${describe(input)}`);
  }
  if (input !== undefined && options.stdin !== undefined) {
    throw new TypeError(`runProcess() takes either input or stdin, not both; got stdin ${describe(options.stdin)}`);
  }
  if (typeof check !== "boolean") throw new TypeError(`runProcess() check must be a boolean; got ${describe(check)}`);
  if (typeof processGroup !== "boolean") throw new TypeError(`runProcess() processGroup must be a boolean; got ${describe(processGroup)}`);
  requireOptionalDuration(gracePeriod, "runProcess() gracePeriod");
  requireOptionalDuration(drainTimeout, "runProcess() drainTimeout");
  const stdinMode = input !== undefined ? "pipe" : (options.stdin ?? "ignore");
  if (status === TASK_STATUS_IGNORED && (stdinMode === "pipe" && input === undefined || stdoutMode === "pipe" || stderrMode === "pipe")) {
    throw new TypeError('runProcess() can give out "pipe" channels only under tg.start(), which hands them to the caller; use "collect" when awaiting it directly');
  }

  const group = processGroup && process.platform !== "win32";
  const child = spawn(command, args, {
    cwd,
    env,
    stdio: [stdinMode, stdoutMode === "collect" ? "pipe" : stdoutMode, stderrMode === "collect" ? "pipe" : stderrMode],
    detached: group, // on POSIX: a new session, whose process group the child leads
  });
  child.on("error", () => {}); // a failed spawn is reported below; a failed kill() returns false
  const target = new ChildTarget(child, group);
  const collected = [child.stdout, child.stderr].map((stream, i) => ((i === 0 ? stdoutMode : stderrMode) === "collect" ? new Collector(stream!) : null));
  try {
    try {
      const spawned = await waitForEvent(child, ["spawn", "error"]);
      if (spawned.name === "error") throw spawned.args[0];
      if (input !== undefined) {
        child.stdin!.on("error", () => {}); // EPIPE when the child exits without reading all of it
        child.stdin!.end(input);
      }
      status.started(new RunningProcessImpl(target, input === undefined && stdinMode === "pipe", stdoutMode === "pipe", stderrMode === "pipe"));
      if (!target.exited) await waitForEvent(child, ["exit"]);
      await drain(collected.filter((collector) => collector !== null), drainTimeout);
    } catch (error) {
      // Cancelled, or something failed around the child: it must not outlive this task either way.
      await terminate(target, gracePeriod);
      for (const stream of child.stdio) stream?.destroy();
      throw error;
    }
    if (group) await terminate(target, gracePeriod); // what the child left running in its group
  } finally {
    target.release();
  }
  const code = child.exitCode;
  const signal = child.signalCode as NodeJS.Signals | null;
  const [stdout, stderr] = collected.map((collector) => collector?.bytes() ?? Buffer.alloc(0)) as [Buffer, Buffer];
  if (check && code !== 0) {
    // A child that died in the same stroke that cancelled us (the terminal's Ctrl-C reaches both) did not fail: we were cancelled.
    await checkpoint();
    throw new ProcessError(command, args, code, signal, tail(stderr), stdout);
  }
  return { code, signal, stdout, stderr };
}

// ------------------------------------------------------------------- waiting for and stopping the child

/**
 * Waits until the collected output streams have ended, for at most
 * `drainTimeout` ms (real time); then stops reading those that are still
 * open, which a process the child started holds.
 */
async function drain(collectors: Collector[], drainTimeout: number): Promise<void> {
  await waitForCloseWithin(collectors.map((collector) => collector.stream), drainTimeout);
  if (collectors.every((collector) => collector.stream.closed)) return;
  await sleepReal(0); // let Node read what has already arrived
  for (const collector of collectors) collector.stream.destroy();
}

/**
 * SIGTERM, then SIGKILL after the grace period; returns once the child has
 * exited (with a process group, once nothing in it is alive). Shielded: it
 * runs while the caller unwinds.
 */
async function terminate(target: ChildTarget, gracePeriod: number): Promise<void> {
  if (target.child.pid === undefined) return; // never started
  await new CancelScope({ shield: true }).run(async () => {
    if (!target.alive()) return;
    target.kill("SIGTERM");
    await moveOnAfter(gracePeriod, () => target.gone());
    if (!target.alive()) return;
    target.kill("SIGKILL");
    await target.gone();
  });
}

// ------------------------------------------------------------------- its output, and the running process

/** The last lines of a child's stderr, for an error message. */
function tail(stderr: Buffer): string {
  const text = stderr.subarray(Math.max(0, stderr.length - 4 * TAIL_CHARS)).toString("utf8").trimEnd();
  const lines = text.split("\n").slice(-TAIL_LINES).join("\n");
  return lines.length > TAIL_CHARS ? `…${lines.slice(-TAIL_CHARS)}` : lines;
}

/** Reads a child's output stream to its end as it comes, so that the child never blocks on it. */
class Collector {
  readonly stream: Readable;
  readonly #chunks: Buffer[] = [];

  constructor(stream: Readable) {
    this.stream = stream;
    stream.on("data", (chunk: Buffer) => this.#chunks.push(chunk));
    stream.on("error", () => {}); // the exit status tells what went wrong
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

class RunningProcessImpl implements RunningProcess {
  readonly #target: ChildTarget;
  readonly #stdin: WritableChannel<Uint8Array | string> | null;
  readonly #stdout: ReceiveChannel<Buffer> | null;
  readonly #stderr: ReceiveChannel<Buffer> | null;

  /** The flags say which streams were opened with "pipe" for the caller (not for `input` or collecting). */
  constructor(target: ChildTarget, stdin: boolean, stdout: boolean, stderr: boolean) {
    this.#target = target;
    const child = target.child;
    this.#stdin = stdin ? toWritable(child.stdin as Writable) : null;
    this.#stdout = stdout ? fromReadable<Buffer>(child.stdout!) : null;
    this.#stderr = stderr ? fromReadable<Buffer>(child.stderr!) : null;
  }

  get pid(): number {
    return this.#target.child.pid!;
  }

  get stdin(): WritableChannel<Uint8Array | string> {
    return this.#stdin ?? notPiped("stdin");
  }

  get stdout(): ReceiveChannel<Buffer> {
    return this.#stdout ?? notPiped("stdout");
  }

  get stderr(): ReceiveChannel<Buffer> {
    return this.#stderr ?? notPiped("stderr");
  }

  kill(signal: NodeJS.Signals | number = "SIGTERM"): boolean {
    return this.#target.kill(signal);
  }
}

function notPiped(name: string): never {
  throw new Error(`the process's ${name} is not a channel: pass { ${name}: "pipe" } to runProcess()`);
}
