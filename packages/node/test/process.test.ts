import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Cancelled, CancelScope, EndOfChannel, moveOnAfter, taskGroup, type TaskGroup } from "@quartet/core";
import { ProcessError, runProcess, type RunningProcess } from "../src/index.js";
import { alive, dead, temporaryDirectory } from "./helpers.js";



/** The pid a shell wrote to `path`, once it has. */
async function pidIn(path: string): Promise<number> {
  for (;;) {
    const text = await readFile(path, "utf8").catch(() => "");
    if (text.endsWith("\n")) return Number(text.trim());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("runProcess, awaited directly", () => {
  it("returns the exit status with stdout and stderr collected", async () => {
    const result = await runProcess("sh", ["-c", "echo out; echo err >&2"]);
    expect(result.code).toBe(0);
    expect(result.signal).toBe(null);
    expect(result.stdout.toString()).toBe("out\n");
    expect(result.stderr.toString()).toBe("err\n");
  });

  it("throws ProcessError with the exit code and the tail of stderr when the child exits non-zero", async () => {
    const script = 'for i in $(seq 1 30); do echo "line $i" >&2; done; exit 3';
    const error = await runProcess("sh", ["-c", script]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessError);
    const failure = error as ProcessError;
    expect(failure.name).toBe("ProcessError");
    expect(failure.code).toBe(3);
    expect(failure.signal).toBe(null);
    expect(failure.stderr.split("\n")).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 21}`));
    expect(failure.message).toMatch(/^sh -c .* exited with code 3:\nline 21\n/);
    expect(failure.message.endsWith("line 30")).toBe(true);
  });

  it("with check: false returns a non-zero exit instead of throwing", async () => {
    const result = await runProcess("sh", ["-c", "exit 7"], { check: false });
    expect(result.code).toBe(7);
  });

  it("reports a child killed by a signal with the signal's name", async () => {
    const error = (await runProcess("sh", ["-c", "kill -KILL $$"]).catch((e: unknown) => e)) as ProcessError;
    expect(error).toBeInstanceOf(ProcessError);
    expect(error.code).toBe(null);
    expect(error.signal).toBe("SIGKILL");
    expect(error.message).toMatch(/was killed by SIGKILL$/);
  });

  it("writes input to the child's stdin and closes it", async () => {
    const { stdout } = await runProcess("sort", [], { input: "b\nc\na\n" });
    expect(stdout.toString()).toBe("a\nb\nc\n");
  });

  it("collects output larger than a pipe holds without the child blocking", async () => {
    const { stdout } = await runProcess("head", ["-c", "3000000", "/dev/zero"]);
    expect(stdout.length).toBe(3_000_000);
  });

  it("throws the spawn error for a command that does not exist", async () => {
    await expect(runProcess("quartet-no-such-command")).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("runs in cwd with env", async () => {
    const { stdout } = await runProcess("sh", ["-c", 'echo "$PWD $GREETING"'], { cwd: "/", env: { GREETING: "hi", PATH: process.env.PATH } });
    expect(stdout.toString()).toBe("/ hi\n");
  });

  it("when cancelled, sends SIGTERM and waits for the child to exit before the cancellation goes on", async () => {
    await using dir = await temporaryDirectory();
    const marker = join(dir.path, "terminated");
    const script = "process.on('SIGTERM', () => { require('fs').writeFileSync(process.argv[1], 'yes'); process.exit(0); }); setInterval(() => {}, 1000); console.log('ready');";
    let pid = 0;
    await taskGroup(async (tg) => {
      const child = await tg.start<RunningProcess>((status) => runProcess("node", ["-e", script, marker], { stdout: "pipe" }, status));
      pid = child.pid;
      expect((await child.stdout.receive()).toString()).toBe("ready\n");
      tg.cancelScope.cancel();
    });
    // taskGroup has returned: the child has handled SIGTERM and exited.
    expect(await readFile(marker, "utf8")).toBe("yes");
    expect(alive(pid)).toBe(false);
  });
});

describe("runProcess under tg.start()", () => {
  it("hands out the running process with piped stdin and stdout as channels", async () => {
    await taskGroup(async (tg) => {
      const cat = await tg.start<RunningProcess>((status) => runProcess("cat", [], { stdin: "pipe", stdout: "pipe" }, status));
      expect(cat.pid).toBeGreaterThan(0);
      await cat.stdin.send("hello\n");
      expect((await cat.stdout.receive()).toString()).toBe("hello\n");
      await cat.stdin.finish(); // end-of-file: cat exits
      await expect(cat.stdout.receive()).rejects.toBeInstanceOf(EndOfChannel);
    });
  });

  it("piped output has backpressure: the child waits while nobody receives", async () => {
    await taskGroup(async (tg) => {
      const child = await tg.start<RunningProcess>((status) =>
        runProcess("node", ["-e", "process.stdout.write(Buffer.alloc(4_000_000)); process.stdout.write('done')"], { stdout: "pipe" }, status),
      );
      // The child cannot finish writing 4 MB into a 64 KiB pipe that nobody drains.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(alive(child.pid)).toBe(true);
      let bytes = 0;
      for await (const chunk of child.stdout) bytes += chunk.length;
      expect(bytes).toBe(4_000_004);
    });
  });

  it("a child that ignores SIGTERM gets SIGKILL after the grace period, and the task waits for it", async () => {
    let running: RunningProcess | undefined;
    let elapsed = 0;
    await taskGroup(async (tg) => {
      running = await tg.start<RunningProcess>((status) =>
        runProcess("sh", ["-c", 'trap "" TERM; echo ready; exec sleep 30'], { stdout: "pipe", gracePeriod: 100 }, status),
      );
      expect((await running.stdout.receive()).toString()).toBe("ready\n");
      const start = performance.now();
      tg.cancelScope.cancel();
      elapsed = -start;
    });
    elapsed += performance.now(); // taskGroup waited for the grace period and the SIGKILL
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(alive(running!.pid)).toBe(false);
  });

  it("a non-zero exit goes to the group as a ProcessError", async () => {
    const error = await taskGroup(async (tg) => {
      await tg.start<RunningProcess>((status) => runProcess("sh", ["-c", "echo failing >&2; exit 2"], {}, status));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessError);
    expect((error as ProcessError).stderr).toBe("failing");
  });

  it("terminates the child when started() fails (here: the group has already finished)", async () => {
    let group: TaskGroup | undefined;
    await taskGroup(async (tg) => void (group = tg));
    let pid = 0;
    const status = {
      started(running: RunningProcess) {
        pid = running.pid;
        group!.spawn(async () => {}); // throws: the group has finished
      },
    };
    await expect(runProcess("sleep", ["30"], {}, status)).rejects.toThrow(/has already finished/);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it("reading a stream that was not piped throws an error that says how to pipe it", async () => {
    await taskGroup(async (tg) => {
      const child = await tg.start<RunningProcess>((status) => runProcess("true", [], {}, status));
      expect(() => child.stdout).toThrow('pass { stdout: "pipe" } to runProcess()');
    });
  });

  it("a cancelled caller before started() terminates the child and start() throws Cancelled", async () => {
    await new CancelScope().run(async (scope) => {
      await taskGroup(async (tg) => {
        scope.cancel();
        await expect(tg.start<RunningProcess>((status) => runProcess("sleep", ["30"], {}, status))).rejects.toBeInstanceOf(Cancelled);
      });
    });
  });
});

describe("runProcess and the processes a child starts", () => {
  it("returns when the child exits although a process it started holds the output pipe: after drainTimeout, with the output so far", async () => {
    const start = performance.now();
    const { stdout } = await runProcess("sh", ["-c", "sleep 5 & echo $!"], { drainTimeout: 50 });
    const elapsed = performance.now() - start;
    const grandchild = Number(stdout.toString().trim());
    try {
      expect(elapsed).toBeGreaterThanOrEqual(49);
      expect(elapsed).toBeLessThan(2000);
      expect(alive(grandchild)).toBe(true); // not the child: signals and the drain do not touch it
    } finally {
      process.kill(grandchild, "SIGKILL");
    }
  });

  it("returns at once when the output ends with the child, in a process group or not", async () => {
    for (const processGroup of [false, true]) {
      const start = performance.now();
      const { stdout } = await runProcess("sh", ["-c", "echo hello"], { processGroup, drainTimeout: 10_000 });
      expect(stdout.toString()).toBe("hello\n");
      expect(performance.now() - start).toBeLessThan(2000);
    }
  });

  it("with processGroup, terminates what the child left running in its group before returning", async () => {
    const { stdout } = await runProcess("sh", ["-c", "sleep 5 & echo $!"], { processGroup: true, drainTimeout: 50 });
    const grandchild = Number(stdout.toString().trim());
    expect(alive(grandchild)).toBe(false);
  });

  it("cancelled while it waits for a grandchild's pipe, returns at once; with processGroup the grandchild is killed", async () => {
    await using dir = await temporaryDirectory();
    for (const processGroup of [false, true]) {
      const pidFile = join(dir.path, `grandchild-${processGroup}`);
      const start = performance.now();
      const result = await moveOnAfter(100, () => runProcess("sh", ["-c", `sleep 5 & echo $! > ${pidFile}`], { processGroup, drainTimeout: 10_000 }));
      expect(result).toBe(undefined); // cancelled
      expect(performance.now() - start).toBeLessThan(2000);
      const grandchild = await pidIn(pidFile);
      if (processGroup) {
        expect(alive(grandchild)).toBe(false);
      } else {
        expect(alive(grandchild)).toBe(true); // signals go to the child only (which has exited)
        process.kill(grandchild, "SIGKILL");
      }
    }
  });

  it("cancellation with processGroup gives the whole group SIGTERM, then SIGKILL after the grace period; without it, a grandchild survives", async () => {
    for (const processGroup of [true, false]) {
      let grandchild = 0;
      let child = 0;
      await taskGroup(async (tg) => {
        const running = await tg.start<RunningProcess>((status) =>
          runProcess("sh", ["-c", 'trap "" TERM; sleep 5 & echo $!; wait'], { stdout: "pipe", processGroup, gracePeriod: 50 }, status),
        );
        child = running.pid;
        grandchild = Number((await running.stdout.receive()).toString().trim());
        tg.cancelScope.cancel();
      });
      expect(alive(child)).toBe(false);
      if (processGroup) {
        expect(alive(grandchild)).toBe(false);
      } else {
        expect(alive(grandchild)).toBe(true);
        process.kill(grandchild, "SIGKILL");
      }
    }
  });

  it("kill() with processGroup signals the whole group", async () => {
    let grandchild = 0;
    await taskGroup(async (tg) => {
      const running = await tg.start<RunningProcess>((status) =>
        runProcess("sh", ["-c", "sleep 5 & echo $!; wait"], { stdout: "pipe", processGroup: true, check: false }, status),
      );
      grandchild = Number((await running.stdout.receive()).toString().trim());
      expect(running.kill("SIGKILL")).toBe(true);
    });
    expect(await dead(grandchild)).toBe(true);
  });

  it("a caller cancelled by the time a failed child is reported gets the cancellation, not a ProcessError", async () => {
    // The child fails at once; its group's leftover ignores SIGTERM, so runProcess is still cleaning up
    // (shielded) when the caller's deadline passes. A failure found in a cancelled scope is not reported.
    const start = performance.now();
    const result = await moveOnAfter(20, () =>
      runProcess("sh", ["-c", 'trap "" TERM; sleep 5 & exit 3'], { processGroup: true, gracePeriod: 100, stdout: "ignore", stderr: "ignore" }),
    );
    expect(result).toBe(undefined);
    expect(performance.now() - start).toBeGreaterThanOrEqual(99); // the leftover got its grace period first
    // Not cancelled, the same failure is a ProcessError.
    await expect(runProcess("sh", ["-c", "exit 3"], { processGroup: true })).rejects.toBeInstanceOf(ProcessError);
  });
});

describe("runProcess arguments", () => {
  it("rejects bad arguments with TypeError and RangeError naming them", async () => {
    await expect(runProcess(42 as unknown as string)).rejects.toThrow(new TypeError("runProcess() command must be a string; got 42"));
    await expect(runProcess("ls", "-l" as unknown as string[])).rejects.toThrow("runProcess() args must be an array of strings");
    await expect(runProcess("ls", [], { stdout: "file" as "pipe" })).rejects.toThrow(TypeError);
    await expect(runProcess("ls", [], { gracePeriod: -1 })).rejects.toThrow(RangeError);
    await expect(runProcess("ls", [], { drainTimeout: -1 })).rejects.toThrow(
      new RangeError("runProcess() drainTimeout must be a non-negative number of milliseconds; got -1"),
    );
    await expect(runProcess("ls", [], { processGroup: "yes" as unknown as boolean })).rejects.toThrow(
      new TypeError('runProcess() processGroup must be a boolean; got "yes"'),
    );
    await expect(runProcess("cat", [], { input: "x", stdin: "inherit" })).rejects.toThrow("either input or stdin");
  });

  it('refuses "pipe" when awaited directly, where nobody could read the channel', async () => {
    await expect(runProcess("ls", [], { stdout: "pipe" })).rejects.toThrow(/only under tg.start\(\)/);
  });
});
