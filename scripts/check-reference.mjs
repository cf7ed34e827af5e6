// Fails when docs/reference is not what TypeDoc generates from the doc comments
// now, so the reference never drifts from the code. `pnpm reference` regenerates it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const committed = join(root, "docs", "reference");
const fresh = mkdtempSync(join(tmpdir(), "quartet-reference-"));
try {
  execFileSync(process.execPath, [join(root, "tools/docs/node_modules/typedoc/bin/typedoc"), "--options", "typedoc.json", "--out", fresh], {
    cwd: join(root, "tools/docs"),
    stdio: ["ignore", "ignore", "inherit"],
  });
  const names = (dir) => readdirSync(dir, { recursive: true }).filter((name) => name.endsWith(".md")).sort();
  const stale = [...new Set([...names(fresh), ...names(committed)])].filter((name) => {
    try {
      return readFileSync(join(fresh, name), "utf8") !== readFileSync(join(committed, name), "utf8");
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(`docs/reference is out of date (${stale.join(", ")}): run \`npx --yes pnpm@12 reference\` and commit the result.`);
    process.exit(1);
  }
  console.log("docs/reference matches the doc comments");
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
