// The consumer test: the packages as a user gets them. Run after `pnpm build`
// (`pnpm test:consumer` does both; `pnpm test` runs it).
//
// 1. Packs every public package with pnpm (which rewrites `workspace:` ranges).
// 2. Installs the tarballs with plain npm into a new project in the system's temp
//    directory, outside the workspace: @quartet/* come from the tarballs only
//    (@types/node, as any TypeScript user has it, effection, the peer dependency
//    of @quartet/effection, and the frameworks the adapters serve come from the registry).
// 3. There: runs scripts/consumer/app.mjs (import) and app.cjs (require), and
//    frameworks.mjs and .cjs (one request through each adapter), on the
//    machine's Node and on every Node of tools/runtimes (the engines floor,
//    20.19.0 and 22.12.0, and 24); runs app.mjs on Bun and Deno; runs README's
//    first program (first.mjs everywhere, first.ts with tsx); type-checks
//    app.ts and first.ts with moduleResolution node16 and bundler, and app.cts (CommonJS,
//    node16), strict, without skipLibCheck, with TypeScript 7 and 6; runs publint
//    and are-the-types-wrong on every tarball (attw's node10 column is ignored:
//    see README.md, "Supported").
//
// Every failure is reported; the script exits 1 if there was any.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixture = join(root, "scripts/consumer");
const runtimes = join(root, "tools/runtimes/node_modules");
const keep = process.argv.includes("--keep");

const failures = [];
function check(label, ok, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} ${label}`);
  if (!ok) {
    failures.push(label);
    if (detail) console.log(detail.trimEnd().replace(/^/gm, "     "));
  }
}

// A user's environment: not the workspace's NODE_OPTIONS (pnpm sets --conditions=quartet-source for its scripts).
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "NODE_OPTIONS" && !name.startsWith("npm_")));

/** Runs a command; returns its result without throwing. */
function exec(command, args, cwd, env = {}) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...userEnv, ...env }, timeout: 120_000 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}`;
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "", output };
}

/** pnpm, which is on the PATH of every pnpm script (as `pnpm test` itself calls `pnpm typecheck`). */
function pnpm(args, cwd) {
  return execFileSync("pnpm", args, { cwd, encoding: "utf8" });
}

/** The peer dependencies of @quartet/express, @quartet/fastify and @quartet/hono, as their users install them. */
const FRAMEWORKS = ["express@^5", "fastify@^5", "hono@^4", "@hono/node-server@^2"];

const work = mkdtempSync(join(tmpdir(), "quartet-consumer-"));
try {
  // ---- pack ------------------------------------------------------------------
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  const packages = readdirSync(join(root, "packages"))
    .map((dir) => join(root, "packages", dir))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter(({ manifest }) => !manifest.private);
  for (const { dir, manifest } of packages) {
    // The published exports map is the workspace's without the quartet-source condition (pnpm applies publishConfig).
    const withoutSource = JSON.parse(JSON.stringify(manifest.exports, (key, value) => (key === "quartet-source" ? undefined : value)));
    check(`${manifest.name}: publishConfig.exports is exports without quartet-source`, JSON.stringify(manifest.publishConfig?.exports) === JSON.stringify(withoutSource));
    if (!existsSync(join(dir, "dist"))) throw new Error(`${manifest.name} has no dist/: run \`pnpm build\` first`);
    pnpm(["pack", "--pack-destination", tarballs], dir);
  }
  const files = readdirSync(tarballs).map((name) => join(tarballs, name));
  console.log(`packed ${packages.map((p) => p.manifest.name).join(", ")}`);

  // ---- install outside the workspace -------------------------------------------
  const project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "quartet-consumer", private: true, type: "module" }, null, 2));
  for (const name of readdirSync(fixture)) copyFileSync(join(fixture, name), join(project, name));
  // @opentelemetry/api: the peer dependency of @quartet/opentelemetry, which a program that traces has.
  const install = exec("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files, "@types/node@^20.19.0", "effection@^4", "@opentelemetry/api@^1.9.0", ...FRAMEWORKS], project);
  check("npm install of the tarballs", install.status === 0, install.output);
  if (install.status !== 0) throw new Error("cannot go on without an install");
  for (const { manifest } of packages) {
    const installed = readFileSync(join(project, "node_modules", manifest.name, "package.json"), "utf8");
    check(`${manifest.name}: installed manifest has no workspace: ranges`, !installed.includes("workspace:"), installed);
    check(`${manifest.name}: installed exports map has no quartet-source condition`, !JSON.stringify(JSON.parse(installed).exports).includes("quartet-source"), installed);
  }

  // ---- run ---------------------------------------------------------------------
  const ran = (result) => result.status === 0 && result.stdout.trimEnd().endsWith("\nok") && result.stderr.trim() === "";
  // README's first program (first.mjs, first.ts) prints exactly this.
  const FIRST = "received 1\nreceived 2\nreceived 3\ngave up after 100 ms\n";
  const printedFirst = (result) => result.status === 0 && result.stdout === FIRST && result.stderr.trim() === "";
  const nodes = [
    [process.execPath, "the machine's Node"],
    [join(runtimes, "node-20.19.0/bin/node"), "Node 20.19.0 (engines floor)"],
    [join(runtimes, "node-22.12.0/bin/node"), "Node 22.12.0 (engines floor)"],
    [join(runtimes, "node/bin/node"), "Node 24"],
  ];
  for (const [node, label] of nodes) {
    if (!existsSync(node)) {
      check(`${label}: installed under tools/runtimes`, false, `${node} is missing: run pnpm install`);
      continue;
    }
    const version = exec(node, ["--version"], project).stdout.trim();
    for (const app of ["app.mjs", "app.cjs", "frameworks.mjs", "frameworks.cjs"]) {
      const result = exec(node, [app], project);
      check(`node ${version} ${app} (${app.endsWith(".mjs") ? "import" : "require"})`, ran(result), result.output);
    }
    const first = exec(node, ["first.mjs"], project);
    check(`node ${version} first.mjs (README's first program)`, printedFirst(first), first.output);
  }
  const tsx = exec(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), "first.ts"], project);
  check("tsx first.ts (README's first program, TypeScript)", printedFirst(tsx), tsx.output);
  const bun = join(runtimes, "@oven/bun-linux-x64/bin/bun");
  const deno = join(runtimes, "@deno/linux-x64-glibc/deno");
  const optional = process.platform !== "linux" || process.arch !== "x64";
  for (const [binary, args, label] of [
    [bun, ["app.mjs"], "bun"],
    [deno, ["run", "--allow-all", "--no-lock", "app.mjs"], "deno"],
  ]) {
    if (!existsSync(binary)) {
      // The runtimes' npm packages are for Linux x64 (CI's platform); elsewhere say so.
      check(`${label}: installed under tools/runtimes`, optional, `${binary} is missing: run pnpm install`);
      continue;
    }
    const version = exec(binary, ["--version"], project).stdout.split("\n")[0].trim();
    const env = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
    const result = exec(binary, args, project, env);
    check(`${label} ${version.replace(/^deno (\S+).*/, "$1")} app.mjs`, ran(result), result.output);
    const first = exec(binary, [...args.slice(0, -1), "first.mjs"], project, env);
    check(`${label} first.mjs`, printedFirst(first), first.output);
  }

  // ---- type-check ----------------------------------------------------------------
  const compilerOptions = { strict: true, noEmit: true, target: "es2022", types: ["node"], skipLibCheck: false };
  const configs = {
    "tsconfig.node16.json": { compilerOptions: { ...compilerOptions, module: "node16", moduleResolution: "node16" }, files: ["app.ts", "first.ts"] },
    "tsconfig.bundler.json": { compilerOptions: { ...compilerOptions, module: "esnext", moduleResolution: "bundler" }, files: ["app.ts", "first.ts"] },
    "tsconfig.cjs.json": { compilerOptions: { ...compilerOptions, module: "node16", moduleResolution: "node16" }, files: ["app.cts"] },
  };
  for (const [name, config] of Object.entries(configs)) writeFileSync(join(project, name), JSON.stringify(config, null, 2));
  const compilers = [
    [join(root, "node_modules/typescript"), "TypeScript"],
    [join(root, "tools/docs/node_modules/typescript"), "TypeScript"],
  ];
  for (const [dir, label] of compilers) {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    for (const name of Object.keys(configs)) {
      const result = exec(process.execPath, [join(dir, manifest.bin.tsc), "-p", name], project);
      check(`${label} ${manifest.version} ${name}`, result.status === 0, result.output);
    }
  }

  // ---- lint the tarballs -----------------------------------------------------------
  for (const file of files) {
    const name = file.split("/").pop();
    const publint = exec(process.execPath, [join(root, "node_modules/publint/src/cli.js"), "run", "--strict", file], root);
    check(`publint ${name}`, publint.status === 0 && !/warning|error|suggestion/i.test(publint.stdout), publint.output);
    const attw = exec(join(root, "node_modules/.bin/attw"), [file, "--profile", "node16", "--format", "ascii", "--no-emoji", "--no-color"], root);
    check(`are-the-types-wrong ${name} (node16 from CJS and ESM, bundler)`, attw.status === 0, attw.output);
  }
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\nconsumer test: ${failures.length} failure(s): ${failures.join("; ")}`);
  process.exit(1);
}
console.log("\nconsumer test: the packed packages install and run outside the workspace");
