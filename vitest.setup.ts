// Runs around every test of every package (see vitest.workspace.ts): a test must not leave a timer, a task,
// a deadline, a server, a socket, a pipe, a child process or an open file behind.
// (vitest keeps a few resources of its own, so each kind is compared with its
// count before the test.)
import { afterEach, beforeEach, expect } from "vitest";
import { currentStatistics } from "@quartet/core/lowlevel";

const WATCHED = ["Timeout", "Immediate", "TCPServerWrap", "TCPSocketWrap", "TCPWrap", "PipeWrap", "ProcessWrap", "FileHandle", "FSReqCallback"];

function resources(): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(WATCHED.map((kind) => [kind, 0]));
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]!++;
  return counts;
}

function leftOver(before: Record<string, number>): Record<string, number> {
  const now = resources();
  return Object.fromEntries(WATCHED.filter((kind) => now[kind]! > before[kind]!).map((kind) => [kind, now[kind]! - before[kind]!]));
}

let before: Record<string, number> = {};

beforeEach(() => {
  before = resources();
});

afterEach(async () => {
  // Closing takes a turn or two; vitest's own messages to its main process hold a
  // timer until they are answered. So look again, for up to 250 ms, before failing.
  let left = leftOver(before);
  for (const start = performance.now(); Object.keys(left).length > 0 && performance.now() - start < 250; ) {
    await new Promise((resolve) => setImmediate(resolve));
    left = leftOver(before);
  }
  expect(left, "resources left behind by the test").toEqual({});
  expect(currentStatistics().tasksLiving, "tasks left behind in the implicit root").toBe(0);
  expect(currentStatistics().deadlines, "deadlines left behind in the implicit root").toBe(0);
});
