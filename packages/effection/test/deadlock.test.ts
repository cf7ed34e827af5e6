// A real child process (Node with tsx): deadlock detection needs Node to be about to exit.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const fixture = fileURLToPath(new URL("fixtures/deadlock.ts", import.meta.url));

it("a run whose task waits in an operation that nothing resumes ends with a DeadlockError naming fromOperation, after the operation's cleanup", { timeout: 20_000 }, async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--conditions=quartet-source", "--import", "tsx", fixture], { cwd: root });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toBe("effection cleanup ran");
  expect(lines[1]).toBe("deadlock: every task of the run is blocked in a Quartet operation and nothing can wake them");
  expect(lines[2]).toMatch(/^task "main" — blocked: fromOperation on effection operation "waitsForNothing"/);
  expect(stderr).toBe("");
});
