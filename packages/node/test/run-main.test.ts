// runMain is about the process: each test runs a fixture program in a real child
// process (Node with tsx) and sends it real signals. The programs are started
// all at once before the tests, since starting Node with tsx is what takes time.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMain } from "../src/index.js";
import { alive, dead } from "./helpers.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const fixture = fileURLToPath(new URL("fixtures/run-main.ts", import.meta.url));

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the fixture with `scenario`; `waitFor(text)` resolves once stdout contains it. */
function start(scenario: string, ...args: string[]) {
  const child = spawn(process.execPath, ["--conditions=quartet-source", "--import", "tsx", fixture, scenario, ...args], { cwd: root });
  let stdout = "";
  let stderr = "";
  const watchers: Array<() => void> = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const watch of watchers) watch();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    for (const watch of watchers) watch();
  });
  const ended = new Promise<Ended>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  const waitFor = (text: string, stream: "stdout" | "stderr" = "stdout") =>
    new Promise<void>((resolve, reject) => {
      const watch = () => (stream === "stdout" ? stdout : stderr).includes(text) && resolve();
      watchers.push(watch);
      watch();
      void ended.then(() => reject(new Error(`the program ended before printing ${JSON.stringify(text)} to ${stream}; stderr: ${stderr}`)));
    });
  return { child, ended, waitFor, stdout: () => stdout, stderr: () => stderr };
}

/** The pids printed after `prefix` on a line of `stdout`. */
function pidsAfter(prefix: string, stdout: string): number[] {
  const line = stdout.split("\n").find((l) => l.startsWith(prefix))!;
  return line.slice(prefix.length).split(" ").map(Number);
}



const SCENARIOS = [
  "cleanup",
  "cleanup-term",
  "hang",
  "fail",
  "success",
  "no-exit",
  "no-exit-signal",
  "orphan",
  "orphan-group",
  "exit-with-children",
  "hostile",
  "dump",
  "dump-off",
  "deadlock",
  "trace",
] as const;
let programs: Record<(typeof SCENARIOS)[number], ReturnType<typeof start>>;

const directory = mkdtempSync(join(tmpdir(), "quartet-run-main-"));
const traceFile = join(directory, "trace.json");

beforeAll(() => {
  programs = Object.fromEntries(
    SCENARIOS.map((name) => [name, name === "cleanup-term" ? start("cleanup") : name === "trace" ? start(name, traceFile) : start(name)]),
  ) as typeof programs;
});

afterAll(async () => {
  // Only if a test failed before its program ended: leave no process behind.
  for (const program of Object.values(programs)) if (program.child.exitCode === null && program.child.signalCode === null) program.child.kill("SIGKILL");
  await Promise.all(Object.values(programs).map((program) => program.ended));
  rmSync(directory, { recursive: true, force: true });
});

// Each program starts Node with tsx, all at once: on a small machine the first ones to be waited for take a while.
describe("runMain", { timeout: 20_000 }, () => {
  it("on SIGINT cancels main (origin kind \"signal\"), lets its cleanup finish, and exits with 130", async () => {
    const program = programs.cleanup;
    await program.waitFor("ready");
    program.child.kill("SIGINT");
    const { code, stdout, stderr } = await program.ended;
    expect(stdout).toBe("ready\ncancelled: SIGINT (origin signal)\ncleanup finished\n");
    expect(stderr).toBe("");
    expect(code).toBe(130);
  });

  it("on SIGTERM does the same and exits with 143", async () => {
    const program = programs["cleanup-term"];
    await program.waitFor("ready");
    program.child.kill("SIGTERM");
    const { code, stdout } = await program.ended;
    expect(stdout).toBe("ready\ncancelled: SIGTERM (origin signal)\ncleanup finished\n");
    expect(code).toBe(143);
  });

  it("on a second signal during cleanup exits at once", async () => {
    const program = programs.hang;
    await program.waitFor("ready");
    program.child.kill("SIGINT");
    await program.waitFor("cleaning up forever");
    program.child.kill("SIGINT");
    const { code, stderr } = await program.ended;
    expect(code).toBe(130);
    expect(stderr).toContain("SIGINT again: exiting without waiting for cleanup to finish");
  });

  it("prints an uncaught error with the tasks it came through, and exits with 1", async () => {
    const { code, stdout, stderr } = await programs.fail.ended;
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^Error: boom\n {4}at /);
    expect(stderr).toContain("\n    in task: worker <- server\n");
  });

  it("prints something for a thrown value that cannot even be looked at, and exits with 1", async () => {
    const { code, stderr } = await programs.hostile.ended;
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot be (shown|described)/);
    expect(stderr).not.toMatch(/trapped/); // the trap's own error did not escape instead
  });

  it("exits with 0 when main returns, after stdout has drained, even with a stray timer left running", async () => {
    const { code, stdout } = await programs.success.ended;
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(100_000);
    expect(lines.at(-1)).toBe("line 99999");
  });

  it("with exit: false returns main's value and removes its signal listeners", async () => {
    const { code, stdout } = await programs["no-exit"].ended;
    expect(stdout).toBe("returned 42; SIGINT listeners left: 0\n");
    expect(code).toBe(0);
  });

  it("with exit: false returns undefined after a signal and sets the exit code", async () => {
    const program = programs["no-exit-signal"];
    await program.waitFor("ready");
    program.child.kill("SIGINT");
    const { code, stdout } = await program.ended;
    expect(stdout).toBe("ready\nreturned undefined; exit code 130\n");
    expect(code).toBe(130);
  });

  it("on a second signal, kills the children runProcess started, even one that ignores SIGTERM", async () => {
    const program = programs.orphan;
    await program.waitFor("children ");
    const [child] = pidsAfter("children ", program.stdout());
    program.child.kill("SIGINT");
    await program.waitFor("cancelled"); // runProcess has sent SIGTERM, which the child ignores, and waits
    expect(alive(child!)).toBe(true);
    program.child.kill("SIGINT");
    const { code } = await program.ended;
    expect(code).toBe(130);
    expect(await dead(child!)).toBe(true);
  });

  it("with processGroup, the kill on the way out reaches the child's own children too", async () => {
    const program = programs["orphan-group"];
    await program.waitFor("children ");
    const pids = pidsAfter("children ", program.stdout());
    expect(pids).toHaveLength(2);
    program.child.kill("SIGINT");
    await program.waitFor("cancelled");
    expect(pids.every(alive)).toBe(true);
    program.child.kill("SIGINT");
    expect((await program.ended).code).toBe(130);
    for (const pid of pids) expect(await dead(pid)).toBe(true);
  });

  it("without runMain, process.exit() kills the children runProcess started too", async () => {
    const { code, stdout } = await programs["exit-with-children"].ended;
    expect(code).toBe(3);
    const [child] = pidsAfter("children ", stdout);
    expect(await dead(child!)).toBe(true);
  });

  it("on SIGUSR2 prints the task tree to stderr and goes on running", async () => {
    const program = programs.dump;
    await program.waitFor("ready");
    program.child.kill("SIGUSR2");
    await program.waitFor('task "worker"', "stderr");
    const dump = program.stderr();
    expect(dump).toContain(`SIGUSR2: the task tree of process ${program.child.pid}:\ntask "server" — blocked`);
    expect(dump).toMatch(/\n└─ cancel scope "main"\n\s+└─ task group "workers"\n\s+└─ task "worker" — blocked: receive on channel "jobs"\n/);
    expect(dump).not.toContain("exit watch"); // runMain's own task is left out
    program.child.kill("SIGUSR2"); // and again: the program is still there
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(program.child.exitCode).toBe(null);
    program.child.kill("SIGINT");
    const { code, stderr } = await program.ended;
    expect(code).toBe(130);
    expect(stderr.match(/SIGUSR2: the task tree/g)).toHaveLength(2);
  });

  it("with dumpSignal: false leaves SIGUSR2 alone (its default action ends the process)", async () => {
    const program = programs["dump-off"];
    await program.waitFor("ready");
    program.child.kill("SIGUSR2");
    const { signal, stderr } = await program.ended;
    expect(signal).toBe("SIGUSR2");
    expect(stderr).toBe("");
  });

  it("when every task is blocked for good, prints the DeadlockError with the task tree after the cleanup, and exits with 1", async () => {
    const { code, stdout, stderr } = await programs.deadlock.ended;
    expect(code).toBe(1);
    expect(stdout).toBe("waiter cleaned up\n");
    expect(stderr).toMatch(/^DeadlockError: deadlock: every task of the run is blocked in a Quartet operation and nothing can wake them\ntask "app" — blocked: receive on channel "jobs"\n/);
    expect(stderr).toContain('task "waiter" — blocked: wait on Event "never"');
    expect(stderr).toContain('\n└─ cancel scope "main"\n');
    expect(stderr).not.toContain("exit watch");
  });

  it("with trace, writes a trace of the program that is complete when it has exited", async () => {
    const { code } = await programs.trace.ended;
    expect(code).toBe(0);
    const { traceEvents } = JSON.parse(readFileSync(traceFile, "utf8")) as { traceEvents: Array<{ name?: string; ph: string; tid?: number; args?: { name?: string } }> };
    expect(traceEvents.filter((event) => event.name === "process_name").map((event) => event.args!.name)).toEqual(['run (main task "traced")']);
    const tracks = traceEvents.filter((event) => event.name === "thread_name").map((event) => event.args!.name);
    expect(tracks).toEqual(expect.arrayContaining(["traced", "worker"]));
    const begun = traceEvents.filter((event) => event.ph === "B").length;
    expect(begun).toBeGreaterThan(0);
    expect(traceEvents.filter((event) => event.ph === "E")).toHaveLength(begun);
  });

  it("rejects bad arguments with a TypeError naming them", async () => {
    await expect(runMain("main" as unknown as () => Promise<void>)).rejects.toThrow(new TypeError('runMain() main must be a function; got "main"'));
    await expect(runMain(async () => {}, { exit: "no" as unknown as boolean })).rejects.toThrow(new TypeError('runMain() exit must be a boolean; got "no"'));
    await expect(runMain(async () => {}, { dumpSignal: true as unknown as false })).rejects.toThrow(new TypeError("runMain() dumpSignal must be a signal name or false; got true"));
    await expect(runMain(async () => {}, { trace: "" })).rejects.toThrow(new TypeError('runMain() trace must be a file path (a non-empty string); got ""'));
    for (const signal of ["SIGINT", "SIGKILL", "SIGNOPE"]) {
      await expect(runMain(async () => {}, { dumpSignal: signal as NodeJS.Signals })).rejects.toThrow(RangeError);
    }
  });
});
