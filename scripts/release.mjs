// Publishes the packages whose versions are not on the registry yet, with
// changesets 3 (run on the Node 24 of tools/runtimes: it needs Node 22.11 or newer).
//
//   node scripts/release.mjs            pack with changesets into .release/, then publish those tarballs
//   node scripts/release.mjs --dry-run  the same up to the upload: pack into a temporary directory, check
//                                       every tarball, and `npm publish --dry-run` each one (CI runs this)
//
// `pnpm release` builds and tests first; see docs/releasing.md for the whole flow
// (changesets, `pnpm changeset version`, then `pnpm release`).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const node24 = join(root, "tools/runtimes/node_modules/node/bin/node");
const changesetBin = join(root, "tools/release/node_modules/@changesets/cli/bin.js");
const dryRun = process.argv.includes("--dry-run");

for (const [path, what] of [[node24, "Node 24"], [changesetBin, "changesets"]]) {
  if (!existsSync(path)) throw new Error(`${what} is not installed (${path}): run \`pnpm install\``);
}

function changeset(...args) {
  execFileSync(node24, [changesetBin, ...args], { cwd: root, stdio: "inherit" });
}

const out = dryRun ? mkdtempSync(join(tmpdir(), "quartet-release-")) : join(root, ".release");
rmSync(out, { recursive: true, force: true });
try {
  changeset("pack", "--out-dir", out);
  const plan = JSON.parse(readFileSync(join(out, "publish-plan.json"), "utf8"));
  const entries = plan.plan.flat().filter((entry) => entry.kind === "publish");
  if (entries.length === 0) {
    console.log("release: every package's version is on the registry already; nothing to publish");
    process.exit(0);
  }
  for (const entry of entries) {
    const tarball = join(out, entry.tarball.path);
    const manifest = execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" });
    if (manifest.includes("workspace:")) throw new Error(`${entry.name}: the packed package.json still has a workspace: range`);
    if (manifest.includes("quartet-source")) throw new Error(`${entry.name}: the packed exports map still has the workspace's quartet-source condition`);
    if (JSON.parse(manifest).version !== entry.version) throw new Error(`${entry.name}: the tarball is not version ${entry.version}`);
  }
  if (dryRun) {
    for (const entry of entries) {
      const args = ["publish", "--dry-run", "--access", entry.access, "--tag", entry.tag, join(out, entry.tarball.path)];
      const result = spawnSync("npm", args, { cwd: out, encoding: "utf8" });
      if (result.status !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
      console.log(`release (dry run): would publish ${entry.name}@${entry.version} (${entry.access}, tag ${entry.tag})`);
    }
  } else {
    changeset("publish", "--from-pack-dir", out);
  }
} finally {
  if (dryRun) rmSync(out, { recursive: true, force: true });
}
