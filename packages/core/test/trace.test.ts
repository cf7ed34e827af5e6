// traceToFile: a Chrome Trace Event Format file of what every task did. The tests read the file back:
// it parses, its slices nest on every track, and a known program gives the tracks and events it should.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CancelScope, Event, moveOnAfter, run, sleep, sleepForever, taskGroup } from "../src/index.js";
import { traceToFile } from "../src/lowlevel.js";
import { MockClock, waitAllTasksBlocked } from "./virtual-time.js";

interface TraceEvent {
  name?: string;
  cat?: string;
  ph: string;
  ts?: number;
  pid: number;
  tid?: number;
  s?: string;
  args?: Record<string, unknown>;
}

let directory = "";
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "quartet-trace-"));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function readTrace(path: string): TraceEvent[] {
  const file = JSON.parse(readFileSync(path, "utf8")) as { traceEvents: TraceEvent[] };
  return file.traceEvents;
}

/**
 * Checks that on every track the B and E events nest (an E closes an open B, every B is closed,
 * time does not go back), and returns each track's slices: name, depth, and the slice it is in.
 */
function slicesByTrack(events: TraceEvent[]): Map<string, Array<{ name: string; depth: number; parent: string | undefined }>> {
  const open = new Map<string, string[]>();
  const last = new Map<string, number>();
  const slices = new Map<string, Array<{ name: string; depth: number; parent: string | undefined }>>();
  for (const event of events) {
    if (event.ph !== "B" && event.ph !== "E") continue;
    const track = `${event.pid}:${event.tid}`;
    expect(event.ts).toBeGreaterThanOrEqual(last.get(track) ?? 0);
    last.set(track, event.ts!);
    const stack = open.get(track) ?? [];
    open.set(track, stack);
    if (event.ph === "B") {
      const list = slices.get(track) ?? [];
      slices.set(track, list);
      list.push({ name: event.name!, depth: stack.length, parent: stack.at(-1) });
      stack.push(event.name!);
    } else {
      expect(stack.length, `an E without its B on track ${track}`).toBeGreaterThan(0);
      stack.pop();
    }
  }
  for (const [track, stack] of open) expect(stack, `slices left open on track ${track}`).toEqual([]);
  return slices;
}

/** The names of a process's tracks, in the order of their thread_sort_index. */
function trackNames(events: TraceEvent[], pid: number): string[] {
  const names = new Map<number, string>();
  const order = new Map<number, number>();
  for (const event of events) {
    if (event.ph !== "M" || event.pid !== pid) continue;
    if (event.name === "thread_name") names.set(event.tid!, event.args!.name as string);
    if (event.name === "thread_sort_index") order.set(event.tid!, event.args!.sort_index as number);
  }
  expect([...order.keys()].sort()).toEqual([...names.keys()].sort());
  return [...names.keys()].sort((a, b) => order.get(a)! - order.get(b)!).map((tid) => names.get(tid)!);
}

function tidOf(events: TraceEvent[], name: string): number {
  return events.find((event) => event.name === "thread_name" && event.args!.name === name)!.tid!;
}

/** A program with a start()ed service that spawns a worker of its own, a group with a failure, an explicit cancellation and a deadline. */
async function knownProgram(): Promise<void> {
  await taskGroup(
    async (outer) => {
      const ready = new Event({ name: "ready" });
      await outer.start(
        async (status) => {
          status.started();
          await sleep(20); // so the worker is spawned after the fetchers: the tracks still go by the tree
          await taskGroup(async (tg) => {
            tg.spawn(() => ready.wait(), { name: "service-worker" });
            await ready.wait();
          });
        },
        { name: "service" },
      );
      await taskGroup(
        async (tg) => {
          tg.spawn(() => sleep(10), { name: "fetch-a" });
          tg.spawn(() => sleep(1000), { name: "fetch-b" });
          tg.spawn(
            async () => {
              await sleep(5);
              throw new Error("boom");
            },
            { name: "failing" },
          );
        },
        { name: "fetchers" },
      ).catch(() => {});
      await new CancelScope({ name: "poll" }).run(async (scope) => {
        scope.cancel("enough");
        await sleep(1);
      });
      await moveOnAfter(30, () => sleepForever());
      ready.set();
    },
    { name: "outer" },
  );
}

describe("traceToFile", () => {
  it("writes a file that parses, whose slices nest on every track, with a track per task in the order of the task tree", async () => {
    const path = join(directory, "trace.json");
    const stop = traceToFile(path);
    try {
      await run(async function main() {
        await knownProgram();
      }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    } finally {
      await stop();
    }
    const events = readTrace(path);
    const slices = slicesByTrack(events);
    const pid = events.find((event) => event.name === "process_name" && event.args!.name === 'run (main task "main")')!.pid;
    expect(trackNames(events, pid)).toEqual(["main", "service", "service-worker", "fetch-a", "fetch-b", "failing"]);
    // Every track: the task's life, and in it running and blocked slices, one after another.
    for (const name of ["main", "service", "service-worker", "fetch-a", "fetch-b", "failing"]) {
      const track = slices.get(`${pid}:${tidOf(events, name)}`)!;
      expect(track[0]).toEqual({ name, depth: 0, parent: undefined });
      expect(track.filter((slice) => slice.depth === 0)).toHaveLength(1);
      expect(track.filter((slice) => slice.depth === 1).map((slice) => slice.name)).toContain("running");
    }
    // Blocked slices are named after the operation.
    const blockedOf = (name: string) => slices.get(`${pid}:${tidOf(events, name)}`)!.filter((slice) => slice.depth === 1 && slice.name !== "running").map((slice) => slice.name);
    expect(blockedOf("main")).toEqual(
      expect.arrayContaining(['wait for started() on task "service"', 'wait for children on task group "fetchers"', 'wait for children on task group "outer"']),
    );
    expect(blockedOf("fetch-a")).toEqual(["sleep"]);
    expect(blockedOf("service-worker")).toEqual(['wait on Event "ready"']); // a queue's waiter says what it waits on
    expect(blockedOf("service")[0]).toBe("sleep");
    const sleepEvent = events.find((event) => event.ph === "B" && event.tid === tidOf(events, "fetch-a") && event.name === "sleep")!;
    expect(sleepEvent).toMatchObject({ cat: "blocked", args: { operation: "sleep" } });
  });

  it("marks every cancellation with an instant event on the track of the task that entered the scope, with its origin", async () => {
    const path = join(directory, "trace.json");
    const stop = traceToFile(path);
    try {
      await run(async function main() {
        await knownProgram();
      }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    } finally {
      await stop();
    }
    const events = readTrace(path);
    const instants = events.filter((event) => event.ph === "i");
    const main = tidOf(events, "main");
    expect(instants.map(({ name, s, tid, args }) => ({ name, s, tid, args }))).toEqual([
      { name: 'task group "fetchers" cancelled (failure)', s: "t", tid: main, args: { kind: "failure", scope: "fetchers", task: "failing", error: "Error: boom" } },
      { name: 'cancel scope "poll" cancelled (cancel)', s: "t", tid: main, args: { kind: "cancel", scope: "poll" } },
      { name: "cancel scope cancelled (deadline)", s: "t", tid: main, args: { kind: "deadline" } },
    ]);
  });

  it("when stopped while tasks still run, ends their slices, and puts tasks it did not see start in a process of their own", async () => {
    const path = join(directory, "trace.json");
    await run(async function main() {
      await taskGroup(async (tg) => {
        const go = new Event();
        tg.spawn(() => go.wait(), { name: "early" }); // blocked before tracing begins, and never seen
        await waitAllTasksBlocked();
        const stop = traceToFile(path);
        try {
          tg.spawn(() => go.wait(), { name: "late" });
          await waitAllTasksBlocked();
          go.set();
          await sleep(1);
          tg.spawn(() => sleep(1_000_000), { name: "still running" });
          await waitAllTasksBlocked();
        } finally {
          await stop();
        }
        tg.cancelScope.cancel();
      });
    });
    const events = readTrace(path);
    const slices = slicesByTrack(events); // every B has its E, though "still running" was still asleep
    const processes = events.filter((event) => event.name === "process_name");
    expect(processes.map((event) => event.args!.name)).toEqual(["tasks of no run the trace saw start (outside any run(), or begun before tracing)"]);
    // In the order the trace met them: "late" spawned, then main blocked (in waitAllTasksBlocked), then "still running" spawned.
    expect(trackNames(events, processes[0]!.pid)).toEqual(["late", "main", "still running"]);
    const stillRunning = slices.get(`${processes[0]!.pid}:${tidOf(events, "still running")}`)!;
    expect(stillRunning.map((slice) => slice.name)).toEqual(["still running", "running", "sleep"]);
  });

  it("rejects a path that is not a non-empty string, and throws the error of a file it cannot open (installing nothing)", async () => {
    const exitListeners = process.listenerCount("exit");
    expect(() => traceToFile(42 as unknown as string)).toThrow(new TypeError("traceToFile() path must be a non-empty string; got number"));
    expect(() => traceToFile("")).toThrow(new TypeError("traceToFile() path must be a non-empty string; got an empty string"));
    expect(() => traceToFile(join(directory, "missing", "trace.json"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(process.listenerCount("exit")).toBe(exitListeners);
  });

  it("stopping twice is harmless, and stopping removes its exit listener", async () => {
    const exitListeners = process.listenerCount("exit");
    const stop = traceToFile(join(directory, "trace.json"));
    expect(process.listenerCount("exit")).toBe(exitListeners + 1);
    await stop();
    await stop();
    expect(process.listenerCount("exit")).toBe(exitListeners);
    expect(readTrace(join(directory, "trace.json"))).toEqual([]);
  });
});

describe("QUARTET_TRACE", { timeout: 20_000 }, () => {
  it("makes the first run() trace the whole process into that file, one process per run, finished when the process exits", async () => {
    const path = join(directory, "env-trace.json");
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const fixture = fileURLToPath(new URL("fixtures/trace.ts", import.meta.url));
    const child = spawn(process.execPath, ["--conditions=quartet-source", "--import", "tsx", fixture], { cwd: root, env: { ...process.env, QUARTET_TRACE: path } });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const events = readTrace(path);
    slicesByTrack(events);
    const runs = events.filter((event) => event.name === "process_name").map((event) => event.args!.name);
    expect(runs).toEqual(['run (main task "first")', 'run (main task "second")']);
    const second = events.find((event) => event.name === "process_name" && event.args!.name === 'run (main task "second")')!.pid;
    expect(trackNames(events, second)).toEqual(["second", "worker"]);
  });
});
