/**
 * Trace export: a built-in instrument that writes what every task did, and
 * when, as a Chrome Trace Event Format file (JSON), which Perfetto
 * (ui.perfetto.dev) and chrome://tracing open.
 *
 * The file's layout:
 * - one process (`pid`) per run, named after its main task; tasks whose run
 *   the trace did not see start (code outside any `run()`, or a run already
 *   going when tracing began) share one more;
 * - one track (`tid`, the task's id) per task, named after the task
 *   (`thread_name`) and ordered by the task tree (`thread_sort_index`: a task
 *   after the task that spawned or started it, siblings in the order they
 *   were spawned);
 * - on each track, a slice for the task's life, and in it slices for the time
 *   it was `running` (or ready to run, or awaiting a promise from outside
 *   Quartet) and for the time it was blocked in a Quartet operation, named
 *   after the operation (`receive on channel "jobs"`);
 * - an instant event for every cancellation of a scope or task group, on the
 *   track of the task that entered it, with its origin in `args`.
 *
 * Timestamps are microseconds of the real clock (`performance.now()`), whatever
 * clock the run uses. Events are written as they happen, in batches; the file
 * is valid JSON once tracing has stopped (or the process has exited).
 *
 * @module
 */

import { closeSync, openSync, writeSync } from "node:fs";
import { textOf, type CancelOrigin } from "./core/errors.js";
import { addInstrument, type BlockInfo, type ScopeInfo, type TaskInfo } from "./core/instruments.js";

/** Bytes of events gathered before they are written out. */
const BATCH = 64 * 1024;

/** A task as the trace knows it: its track, and the slices open on it. */
interface Track {
  readonly tid: number;
  readonly pid: number;
  readonly name: string;
  /** Tasks it spawned or started, in order: its place in the tree, for the tracks' order. */
  readonly children: Track[];
  /** Whether its life's slice (and a running or blocked slice in it) is open. */
  live: boolean;
  /** How many blocked slices are open (a task can block in an operation inside another, as `abortable()` can). */
  blocked: number;
}

/** A process of the trace: a run, or the tasks of no run it saw start. */
interface Process {
  readonly pid: number;
  readonly name: string;
  /** Its tracks that no track of it spawned, in order. */
  readonly roots: Track[];
}

/** What a blocked slice is called: the operation, and what it waits on, as the task tree says it. */
export function blockLabel(block: BlockInfo): string {
  let label = block.operation;
  if (block.object !== undefined) label += ` on ${block.object}${block.target === undefined ? "" : ` "${block.target}"`}`;
  if (block.until === Infinity) label += " forever";
  return label;
}

/** The instant event's name for a cancellation: what was cancelled, and why. */
function cancellationLabel(scope: ScopeInfo): string {
  const what = `${scope.type === "group" ? "task group" : "cancel scope"}${scope.name === undefined ? "" : ` "${scope.name}"`}`;
  return `${what} cancelled (${scope.origin?.kind ?? "cancel"})`;
}

/** The origin as plain JSON data: the failing task's error as text. */
function originArgs(origin: CancelOrigin | undefined): Record<string, string> {
  const args: Record<string, string> = { kind: origin?.kind ?? "cancel" };
  if (origin?.scope !== undefined) args.scope = origin.scope;
  if (origin?.task !== undefined) args.task = origin.task;
  if (origin !== undefined && "error" in origin) args.error = textOf(origin.error);
  if (origin?.stack !== undefined) args.stack = origin.stack;
  return args;
}

/** Microseconds of the real clock. */
function microseconds(): number {
  return Math.round(performance.now() * 1000) / 1000;
}

/** One trace file being written. */
class TraceWriter {
  readonly #fd: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #first = true;
  readonly #tracks = new Map<number, Track>();
  /** The processes, in the order they appeared (pids count from 1). */
  readonly #processes: Process[] = [];
  #outside: Process | null = null;

  constructor(path: string) {
    this.#fd = openSync(path, "w");
    writeSync(this.#fd, '{"displayTimeUnit":"ms","traceEvents":[\n');
  }

  // ----------------------------------------------------------------- instrument hooks

  spawned(task: TaskInfo): void {
    if (this.#tracks.has(task.id)) return;
    if (task.parent === undefined) {
      // A run's main task.
      const process = this.#process(`run (main task "${task.name}")`);
      this.#addTrack(task.id, task.name, process, null);
      return;
    }
    const parent = this.#tracks.get(task.parent);
    if (parent === undefined) this.#addTrack(task.id, task.name, this.#outsideProcess(), null);
    else this.#addTrack(task.id, task.name, this.#processes[parent.pid - 1]!, parent);
  }

  started(task: TaskInfo): void {
    const track = this.#track(task.id, task.name);
    if (!track.live) this.#begin(track, microseconds());
  }

  exited(task: TaskInfo): void {
    const track = this.#tracks.get(task.id);
    if (track !== undefined && track.live) this.#end(track, microseconds());
  }

  blocked(block: BlockInfo): void {
    const track = this.#track(block.id, block.name);
    const ts = microseconds();
    if (!track.live) this.#begin(track, ts); // a task that began before tracing did
    if (track.blocked === 0) this.#event({ ph: "E", ts, pid: track.pid, tid: track.tid }); // the running slice
    track.blocked++;
    const args: Record<string, string | number> = { operation: block.operation };
    if (block.object !== undefined) args.object = block.object;
    if (block.target !== undefined) args.target = block.target;
    if (block.until !== undefined && Number.isFinite(block.until)) args.until = block.until;
    this.#event({ name: blockLabel(block), cat: "blocked", ph: "B", ts, pid: track.pid, tid: track.tid, args });
  }

  unblocked(block: BlockInfo): void {
    const track = this.#tracks.get(block.id);
    if (track === undefined || !track.live || track.blocked === 0) return; // it blocked before tracing began
    const ts = microseconds();
    this.#event({ ph: "E", ts, pid: track.pid, tid: track.tid });
    if (--track.blocked === 0) this.#event({ name: "running", cat: "running", ph: "B", ts, pid: track.pid, tid: track.tid });
  }

  cancelled(scope: ScopeInfo): void {
    const track = this.#track(scope.task, "a task that began before tracing");
    const args = originArgs(scope.origin);
    this.#event({ name: cancellationLabel(scope), cat: "cancellation", ph: "i", s: "t", ts: microseconds(), pid: track.pid, tid: track.tid, args });
  }

  // ----------------------------------------------------------------- the end

  /** Ends the slices still open (of tasks still running), names the processes and tracks, and closes the file. */
  finish(): void {
    const ts = microseconds();
    for (const track of this.#tracks.values()) if (track.live) this.#end(track, ts);
    for (const process of this.#processes) {
      this.#event({ name: "process_name", ph: "M", pid: process.pid, args: { name: process.name } });
      this.#event({ name: "process_sort_index", ph: "M", pid: process.pid, args: { sort_index: process.pid } });
      // The tracks in the order of the task tree: depth first, each task before its children.
      let order = 0;
      const stack = [...process.roots].reverse();
      while (stack.length > 0) {
        const track = stack.pop()!;
        this.#event({ name: "thread_name", ph: "M", pid: track.pid, tid: track.tid, args: { name: track.name } });
        this.#event({ name: "thread_sort_index", ph: "M", pid: track.pid, tid: track.tid, args: { sort_index: order++ } });
        for (let i = track.children.length - 1; i >= 0; i--) stack.push(track.children[i]!);
      }
    }
    this.#pending.push("\n]}\n");
    this.#flush();
    closeSync(this.#fd);
  }

  // ----------------------------------------------------------------- helpers

  #process(name: string): Process {
    const process: Process = { pid: this.#processes.length + 1, name, roots: [] };
    this.#processes.push(process);
    return process;
  }

  /** The process of tasks whose run the trace did not see start. */
  #outsideProcess(): Process {
    this.#outside ??= this.#process("tasks of no run the trace saw start (outside any run(), or begun before tracing)");
    return this.#outside;
  }

  #addTrack(tid: number, name: string, process: Process, parent: Track | null): Track {
    const track: Track = { tid, pid: process.pid, name, children: [], live: false, blocked: 0 };
    this.#tracks.set(tid, track);
    (parent === null ? process.roots : parent.children).push(track);
    return track;
  }

  /** The track of task `id`; for a task the trace did not see spawned, a new one. */
  #track(id: number, name: string): Track {
    return this.#tracks.get(id) ?? this.#addTrack(id, name, this.#outsideProcess(), null);
  }

  /** Opens the slice of the task's life, and a running slice in it. */
  #begin(track: Track, ts: number): void {
    track.live = true;
    this.#event({ name: track.name, cat: "task", ph: "B", ts, pid: track.pid, tid: track.tid });
    this.#event({ name: "running", cat: "running", ph: "B", ts, pid: track.pid, tid: track.tid });
  }

  /** Ends every slice open on `track`: the blocked ones or the running one, and its life's. */
  #end(track: Track, ts: number): void {
    const open = Math.max(track.blocked, 1) + 1;
    for (let i = 0; i < open; i++) this.#event({ ph: "E", ts, pid: track.pid, tid: track.tid });
    track.blocked = 0;
    track.live = false;
  }

  #event(event: Record<string, unknown>): void {
    const text = (this.#first ? "" : ",\n") + JSON.stringify(event);
    this.#first = false;
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    if (this.#pendingBytes >= BATCH) this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    writeSync(this.#fd, this.#pending.join(""));
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

/**
 * Starts writing a trace of every task in the process to the file at `path`
 * (replacing it), as a Chrome Trace Event Format JSON file that Perfetto
 * (ui.perfetto.dev, "Open trace file") and chrome://tracing open: a track per
 * task, named after it and ordered by the task tree, with slices for the time
 * the task was running and for the time it was blocked (named after the
 * operation: `receive on channel "jobs"`), and an instant event for every
 * cancellation with its origin (`kind`, `scope`, `task`, `error`). Installs
 * an instrument (see `addInstrument`), so it costs time for every task and
 * blocking operation while it runs.
 *
 * Returns a function that stops tracing and finishes the file; until then the
 * file is not valid JSON. If the process exits first, the file is finished as
 * it exits. `runMain(main, { trace })` in `@quartet/node` and the environment
 * variable `QUARTET_TRACE=file` (read by the first `run()`) call it for you.
 *
 * @example
 * ```ts
 * import { run, sleep, taskGroup } from "@quartet/core";
 * import { traceToFile } from "@quartet/core/lowlevel";
 *
 * const stop = traceToFile("trace.json");
 * try {
 *   await run(() =>
 *     taskGroup(async (tg) => {
 *       tg.spawn(() => sleep(10), { name: "napper" });
 *       tg.spawn(() => sleep(20), { name: "sleeper" });
 *     }),
 *   );
 * } finally {
 *   await stop(); // trace.json is complete: open it in ui.perfetto.dev
 * }
 * ```
 */
export function traceToFile(path: string): () => Promise<void> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`traceToFile() path must be a non-empty string; got ${path === "" ? "an empty string" : typeof path}`);
  }
  const writer = new TraceWriter(path);
  const removeInstrument = addInstrument({
    taskSpawned: (task) => writer.spawned(task),
    taskStarted: (task) => writer.started(task),
    taskExited: (task) => writer.exited(task),
    taskBlocked: (block) => writer.blocked(block),
    taskUnblocked: (block) => writer.unblocked(block),
    scopeCancelled: (scope) => writer.cancelled(scope),
  });
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    removeInstrument();
    process.off("exit", stop);
    writer.finish();
  };
  process.on("exit", stop);
  return async () => stop();
}

/** Whether the environment's `QUARTET_TRACE` has been looked at. */
let environmentRead = false;

/**
 * `QUARTET_TRACE=file`: the first `run()` of the process starts a trace of the
 * whole process into that file, finished when the process exits.
 */
export function traceFromEnvironment(): void {
  if (environmentRead) return;
  environmentRead = true;
  const path = typeof process === "undefined" ? undefined : process.env?.QUARTET_TRACE;
  if (path !== undefined && path !== "") traceToFile(path);
}
