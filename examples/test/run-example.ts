// Runs an example the way a user would (`tsx examples/<name>.ts`), with the
// Node that runs the tests, and returns what it printed.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("../..", import.meta.url));

export async function runExample(name: string): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ["--conditions=quartet-source", "--import", "tsx", `examples/${name}.ts`], {
    cwd: root,
    timeout: 30_000,
  });
}
