// A program whose tasks all wait for something nobody will do: Node is about to exit, and Quartet
// says why instead of letting it end in silence. Real child processes (Node with tsx), started at once.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const fixture = fileURLToPath(new URL("fixtures/deadlock.ts", import.meta.url));

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runFixture(scenario: string): Promise<Ended> {
  const child = spawn(process.execPath, ["--conditions=quartet-source", "--import", "tsx", fixture, scenario], { cwd: root });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const programs = {
  outside: runFixture("outside-run"),
  run: runFixture("run"),
  rescued: runFixture("rescued"),
  cleanupDeadlocks: runFixture("cleanup-deadlocks"),
};

describe("a deadlock", { timeout: 20_000 }, () => {
  it("outside any run(): prints which task waits in what before Node exits with 13", async () => {
    const { code, stdout, stderr } = await programs.outside;
    expect(code).toBe(13);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /^Quartet: deadlock outside any run\(\): Node is about to exit while these tasks wait in Quartet operations that nothing can wake:\ntask "<root>" — blocked: wait on Event "never"\n/,
    );
  });

  it("is not reported when another 'beforeExit' listener schedules the work that wakes the tasks", async () => {
    const { code, stdout, stderr } = await programs.rescued;
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "woken by the other listener\n", stderr: "" });
  });

  it("whose cleanup deadlocks too: run() gives up on the cleanup and rejects with the DeadlockError", async () => {
    const { code, stdout } = await programs.cleanupDeadlocks;
    expect(code).toBe(0);
    expect(stdout).toBe("cleanup waits, shielded, for another event nobody sets\nrun() rejected with DeadlockError\n");
  });

  it("in a run(): cancels the run with a DeadlockError holding the task tree, lets the cleanup run, and rejects with it", async () => {
    const { code, stdout } = await programs.run;
    expect(code).toBe(2);
    expect(stdout).toBe(
      [
        "waiter cleaned up",
        "run() rejected with DeadlockError:",
        "deadlock: every task of the run is blocked in a Quartet operation and nothing can wake them",
        'task "app" — blocked: receive on channel "jobs"',
        '└─ task group "workers"',
        '   └─ task "waiter" — blocked: wait on Event "never"',
        "",
      ].join("\n"),
    );
  });
});
