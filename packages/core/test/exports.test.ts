import { describe, expect, it } from "vitest";
import * as lowlevel from "../src/lowlevel.js";
import * as quartet from "../src/index.js";
import packageJson from "../package.json" with { type: "json" };

// The public surface, spelled out: a test fails when something public stops
// being exported or something internal starts to be.
const ROOT_VALUES = [
  "BrokenResourceError",
  "CancelScope",
  "CapacityLimiter",
  "Cancelled",
  "ClosedResourceError",
  "DeadlockError",
  "Condition",
  "EndOfChannel",
  "Event",
  "Lock",
  "RateLimiter",
  "Semaphore",
  "TASK_STATUS_IGNORED",
  "TaskGroupError",
  "TimeoutError",
  "WouldBlock",
  "abortable",
  "all",
  "checkpoint",
  "currentEffectiveDeadline",
  "currentSignal",
  "failAfter",
  "failAt",
  "forEach",
  "isCancelled",
  "map",
  "moveOnAfter",
  "moveOnAt",
  "now",
  "openBroadcastChannel",
  "openMemoryChannel",
  "produce",
  "race",
  "retry",
  "run",
  "sleep",
  "sleepForever",
  "sleepUntil",
  "taskGroup",
];

const LOWLEVEL_VALUES = ["addInstrument", "cancelWithOrigin", "onCancelled", "currentCheckpointCount", "currentRunHooks", "currentStatistics", "currentTaskName", "parkCurrentTask", "systemClock", "formatTaskTree", "taskTree", "tasksOfError", "traceToFile"];

describe("public surface", () => {
  it("@quartet/core exports exactly the documented names", () => {
    expect(Object.keys(quartet).sort()).toEqual([...ROOT_VALUES].sort());
  });

  it("@quartet/core/lowlevel exports exactly the documented hooks", () => {
    expect(Object.keys(lowlevel).sort()).toEqual([...LOWLEVEL_VALUES].sort());
  });

  it("the package's exports map has the root and the lowlevel entry, each with types for import and for require", () => {
    const exportsMap: Record<string, unknown> = packageJson.exports;
    expect(Object.keys(exportsMap).sort()).toEqual([".", "./lowlevel", "./package.json"]);
    for (const entry of [".", "./lowlevel"]) {
      expect(exportsMap[entry]).toMatchObject({
        import: { types: expect.stringMatching(/\.d\.ts$/), default: expect.stringMatching(/\.js$/) },
        require: { types: expect.stringMatching(/\.d\.cts$/), default: expect.stringMatching(/\.cjs$/) },
      });
    }
  });

  it("a CancelScope shows no internal state as properties", () => {
    expect(Object.keys(new quartet.CancelScope())).toEqual([]);
  });
});
