// Builds the package in the current directory to dist/ (`pnpm build` runs it in
// every public package, dependencies first):
//
// 1. tsc with tsconfig.build.json: ESM .js, .d.ts, declaration and source maps.
// 2. For `require()`: each entry point gets a one-line CommonJS file that
//    requires the ESM entry (`module.exports = require("./index.js")`), and every
//    .d.ts gets a .d.cts twin.
//
// Why not a second, CommonJS build: the runtime keeps the current task in an
// AsyncLocalStorage and checks errors with `instanceof`, so two copies of it in
// one process (one loaded by `import`, one by `require`) would not see each
// other's tasks. Node loads ES modules with require() from 20.19 and 22.12, so
// the .cjs file hands CommonJS callers the very module that `import` loads.
// The .d.cts twins exist for TypeScript: under `moduleResolution: node16` a
// CommonJS file may not import declarations that TypeScript takes for ESM.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const dist = "dist";

rmSync(dist, { recursive: true, force: true });
const typescript = createRequire(import.meta.url).resolve("typescript/package.json");
const tsc = join(dirname(typescript), JSON.parse(readFileSync(typescript, "utf8")).bin.tsc);
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });

// Relative specifiers of declarations, "./x.js" → "./x.cjs", so that a .d.cts
// imports the .d.cts twins (TypeScript maps x.cjs to x.d.cts).
const RELATIVE = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*)\.js(["'])/g;

for (const name of readdirSync(dist, { recursive: true })) {
  if (!name.endsWith(".d.ts")) continue;
  const text = readFileSync(join(dist, name), "utf8");
  writeFileSync(join(dist, name.replace(/\.d\.ts$/, ".d.cts")), text.replace(RELATIVE, "$1$2.cjs$3"));
}

let entries = 0;
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === "./package.json") continue;
  const { import: esm, require: cjs } = target;
  if (!esm?.default?.endsWith(".js") || !cjs?.default?.endsWith(".cjs")) {
    throw new Error(`${pkg.name}: exports["${subpath}"] needs import.default (.js) and require.default (.cjs)`);
  }
  const file = cjs.default.slice(2); // "./dist/x.cjs" → "dist/x.cjs"
  const from = "./" + esm.default.split("/").pop();
  writeFileSync(file, `"use strict";\n// The ES module itself (Node loads it with require() from 20.19 and 22.12): one copy of the runtime for import and require.\nmodule.exports = require(${JSON.stringify(from)});\n`);
  entries++;
}
console.log(`${pkg.name}: built dist/ (${entries} entry point${entries === 1 ? "" : "s"})`);
