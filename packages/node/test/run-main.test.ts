// runMain is about the process: each test runs a fixture program in a real child
// process (Node with tsx) and sends it real signals. The programs are started
// all at once before the tests, since starting Node with tsx is what takes time.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMain } from "../src/index.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const fixture = fileURLToPath(new URL("fixtures/run-main.ts", import.meta.url));

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the fixture with `scenario`; `waitFor(text)` resolves once stdout contains it. */
function start(scenario: string) {
  const child = spawn(process.execPath, ["--conditions=quartet-source", "--import", "tsx", fixture, scenario], { cwd: root });
  let stdout = "";
  let stderr = "";
  const watchers: Array<() => void> = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const watch of watchers) watch();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const ended = new Promise<Ended>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const watch = () => stdout.includes(text) && resolve();
      watchers.push(watch);
      watch();
      void ended.then(() => reject(new Error(`the program ended before printing ${JSON.stringify(text)}; stderr: ${stderr}`)));
    });
  return { child, ended, waitFor };
}

const SCENARIOS = ["cleanup", "cleanup-term", "hang", "fail", "success", "no-exit", "no-exit-signal"] as const;
let programs: Record<(typeof SCENARIOS)[number], ReturnType<typeof start>>;

beforeAll(() => {
  programs = Object.fromEntries(SCENARIOS.map((name) => [name, start(name === "cleanup-term" ? "cleanup" : name)])) as typeof programs;
});

afterAll(async () => {
  // Only if a test failed before its program ended: leave no process behind.
  for (const program of Object.values(programs)) if (program.child.exitCode === null && program.child.signalCode === null) program.child.kill("SIGKILL");
  await Promise.all(Object.values(programs).map((program) => program.ended));
});

describe("runMain", () => {
  it("on SIGINT cancels main, lets its cleanup finish, and exits with 130", async () => {
    const program = programs.cleanup;
    await program.waitFor("ready");
    program.child.kill("SIGINT");
    const { code, stdout, stderr } = await program.ended;
    expect(stdout).toBe("ready\ncancelled: SIGINT\ncleanup finished\n");
    expect(stderr).toBe("");
    expect(code).toBe(130);
  });

  it("on SIGTERM does the same and exits with 143", async () => {
    const program = programs["cleanup-term"];
    await program.waitFor("ready");
    program.child.kill("SIGTERM");
    const { code, stdout } = await program.ended;
    expect(stdout).toBe("ready\ncancelled: SIGTERM\ncleanup finished\n");
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

  it("rejects bad arguments with a TypeError naming them", async () => {
    await expect(runMain("main" as unknown as () => Promise<void>)).rejects.toThrow(new TypeError('runMain() main must be a function; got "main"'));
    await expect(runMain(async () => {}, { exit: "no" as unknown as boolean })).rejects.toThrow(new TypeError('runMain() exit must be a boolean; got "no"'));
  });
});
