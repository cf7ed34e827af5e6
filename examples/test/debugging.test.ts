// The programs of docs/debugging.md, run as a user would, with their output checked.
import { expect, it } from "vitest";
import { runExample, startExample } from "./run-example.js";

it("debugging/deadlock.ts: the deadlocked transfers are cancelled (their cleanup runs) and the report names each task, the lock it waits for and the line", async () => {
  const { code, stdout, stderr } = await startExample("debugging/deadlock", { QUARTET_DEBUG: "1" }).ended;
  expect(code).toBe(1);
  expect(stdout.trim().split("\n").sort()).toEqual(["alice → bob: cleanup ran, releasing alice", "bob → alice: cleanup ran, releasing bob"]);
  const lines = stderr.trim().split("\n");
  expect(lines[0]).toBe("deadlock: every task of the run is blocked in a Quartet operation and nothing can wake them");
  expect(lines[1]).toMatch(/^task "main" — blocked: wait for children on task group "transfers", for \d+ ms, at .*examples\/debugging\/deadlock\.ts:\d+:\d+\)?$/);
  expect(lines[2]).toBe('└─ task group "transfers"');
  expect(lines[3]).toMatch(/^   ├─ task "alice → bob" — blocked: acquire on Lock "bob", for \d+ ms, at transfer \(.*examples\/debugging\/deadlock\.ts:19:\d+\)$/);
  expect(lines[4]).toMatch(/^   └─ task "bob → alice" — blocked: acquire on Lock "alice", for \d+ ms, at transfer \(.*examples\/debugging\/deadlock\.ts:19:\d+\)$/);
  expect(lines).toHaveLength(5);
});

it("debugging/deadlock.ts without QUARTET_DEBUG: the same report, without since-when and lines", async () => {
  const { code, stderr } = await startExample("debugging/deadlock", { QUARTET_DEBUG: "" }).ended;
  expect(code).toBe(1);
  expect(stderr.trim().split("\n").slice(1)).toEqual([
    'task "main" — blocked: wait for children on task group "transfers"',
    '└─ task group "transfers"',
    '   ├─ task "alice → bob" — blocked: acquire on Lock "bob"',
    '   └─ task "bob → alice" — blocked: acquire on Lock "alice"',
  ]);
});

it("debugging/task-tree.ts prints the pipeline's tree: every task, what it waits in, since when and from which line", async () => {
  const { stdout, stderr } = await runExample("debugging/task-tree");
  expect(stderr).toBe("");
  const at = (line: number) => String.raw`, for \d+ ms, at .*\(.*examples/debugging/task-tree\.ts:${line}:\d+\)$`;
  const patterns = [
    /^task "main" — running$/,
    /^└─ task group "thumbnails"$/,
    new RegExp(String.raw`^   ├─ task "reader" — blocked: send on channel "files"${at(22)}`),
    new RegExp(String.raw`^   ├─ task "resize-1" — blocked: sleep until \d+ ms \(in \d+ ms\)${at(33)}`),
    /^   │  └─ cancel scope "resize photo-1\.jpg" \[deadline in \d\.\d s\]$/,
    new RegExp(String.raw`^   ├─ task "resize-2" — blocked: sleep until \d+ ms \(in \d+ ms\)${at(33)}`),
    /^   │  └─ cancel scope "resize photo-2\.jpg" \[deadline in \d\.\d s\]$/,
    new RegExp(String.raw`^   ├─ task "resize-3" — blocked: acquire on CapacityLimiter "cpu"${at(30)}`),
    new RegExp(String.raw`^   ├─ task "uploader" — blocked: receive on channel "thumbnails"${at(43)}`),
    new RegExp(String.raw`^   └─ task "progress" — blocked: wait on Event "all uploaded"${at(48)}`),
  ];
  const lines = stdout.trim().split("\n");
  expect(lines).toHaveLength(patterns.length);
  patterns.forEach((pattern, i) => expect(lines[i]).toMatch(pattern));
});

it("debugging/cancel-origin.ts explains each cancellation by its origin", async () => {
  const { stdout, stderr } = await runExample("debugging/cancel-origin");
  expect(stderr).toBe("");
  const lines = stdout.trim().split("\n");
  expect(lines.slice(0, -1)).toEqual([
    'fetch-orders: cancelled because task "fetch-user" failed: TypeError: boom',
    '  origin: kind "failure", scope "load-profile", task "fetch-user", error TypeError: boom',
    "taskGroup threw TypeError: boom",
    'slow request: cancelled because the deadline of "per-request deadline" passed',
    '  origin: kind "deadline", scope "per-request deadline", task undefined, error undefined',
    'nightly job: cancelled: "nightly job" was cancelled: the operator stopped it',
    '  origin: kind "cancel", scope "nightly job", task undefined, error undefined',
  ]);
  expect(lines.at(-1)).toMatch(/^  cancel\(\) was called at .*\(.*examples\/debugging\/cancel-origin\.ts:68:\d+\)$/);
});
