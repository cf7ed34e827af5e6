// Runs an example the way a user would (`tsx examples/<name>.ts`), with the
// Node that runs the tests, and returns what it printed. `startExample` is for
// long-running examples: the test talks to it while it runs, and can send it signals.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("../..", import.meta.url));
const NODE_ARGS = ["--conditions=quartet-source", "--import", "tsx"];

export async function runExample(name: string, args: string[] = []): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [...NODE_ARGS, `examples/${name}.ts`, ...args], {
    cwd: root,
    timeout: 30_000,
  });
}

/** How a started example ended. */
export interface ExampleExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running example. */
export interface RunningExample {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first match of `pattern` in what the example has printed so far or prints later; rejects if it ends first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** What it has printed so far. */
  output(): string;
  /** Resolves when it has exited. */
  readonly ended: Promise<ExampleExit>;
}

export function startExample(name: string, env: Record<string, string> = {}): RunningExample {
  const child = spawn(process.execPath, [...NODE_ARGS, `examples/${name}.ts`], { cwd: root, env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const watch of watchers) watch();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const ended = new Promise<ExampleExit>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  void ended.then(() => clearTimeout(timeout));
  return {
    child,
    ended,
    output: () => stdout,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const watch = () => {
          const match = stdout.match(pattern);
          if (match === null) return;
          watchers.delete(watch);
          resolve(match);
        };
        watchers.add(watch);
        watch();
        void ended.then(() => {
          if (watchers.delete(watch)) reject(new Error(`examples/${name}.ts ended before printing ${pattern}:\n${stdout}\n${stderr}`));
        });
      }),
  };
}
