/**
 * The benchmark worker, with Quartet (from source), effection, Effect and
 * every scenario, bundled into one JavaScript file: a fresh process then
 * starts in tens of milliseconds, not hundreds. Used by bench.ts and
 * instructions.ts.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

/** Bundles worker.ts into `outfile`, with `plugins` (for example {@link fromBaseline}). */
export async function bundleWorker(outfile: string, plugins: Plugin[] = []): Promise<string> {
  await build({
    entryPoints: [join(here, "worker.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["quartet-source"],
    outfile,
    // CommonJS packages in the bundle (autocannon) require Node's modules: give the ES module a `require`.
    banner: { js: 'import { createRequire as __quartetBenchRequire } from "node:module"; const require = __quartetBenchRequire(import.meta.url);' },
    logLevel: "warning",
    plugins,
  });
  return outfile;
}

/** A plugin that takes @quartet/core (and @quartet/node, if it has it) from the sources of another checkout at `baseline`. */
export function fromBaseline(baseline: string): Plugin {
  return {
    name: "quartet-baseline",
    setup(build) {
      build.onResolve({ filter: /^@quartet\/core(\/lowlevel)?$/ }, ({ path }) => ({
        path: join(baseline, "packages/core/src", path.endsWith("/lowlevel") ? "lowlevel.ts" : "index.ts"),
      }));
      const node = join(baseline, "packages/node/src/index.ts");
      if (existsSync(node)) build.onResolve({ filter: /^@quartet\/node$/ }, () => ({ path: node }));
    },
  };
}
