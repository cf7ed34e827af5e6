// The test projects: one per package, plus the examples. vitest 4 does not read
// this file by itself; vitest.config.ts imports it as `test.projects`.
import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

/** Checks after every test that it left no timer, socket, process, task or deadline behind. */
const setupFiles = [fileURLToPath(new URL("./vitest.setup.ts", import.meta.url))];

const shared = {
  // Resolve workspace packages to their TypeScript sources (see the exports maps).
  resolve: { conditions: ["quartet-source", "module", "node", "development|production"] },
  ssr: { resolve: { conditions: ["quartet-source", "module", "node", "development|production"] } },
};

/** Resolution as Node itself does it, plus the sources of the workspace packages. */
const forNode = {
  resolve: { conditions: ["quartet-source", "node", "development|production"] },
  ssr: { resolve: { conditions: ["quartet-source", "node", "development|production"] } },
};

export default [
  defineProject({ ...shared, test: {
      name: "core",
      root: "packages/core",
      include: ["test/**/*.test.ts"],
      setupFiles,
      // The producer's garbage-collection test calls gc().
      execArgv: ["--expose-gc"],
    }, }),
  defineProject({ ...shared, test: { name: "testing", root: "packages/testing", include: ["test/**/*.test.ts"], setupFiles } }),
  defineProject({ ...shared, test: {
      name: "node",
      root: "packages/node",
      include: ["test/**/*.test.ts"],
      setupFiles,
      // Worker threads (runInWorker) load the package's TypeScript sources (the quartet-source
      // condition) with require(): they inherit tsx's require hook through execArgv. (Not all of
      // tsx: its --import entry would also take over this process's signals, which run-main's tests send.)
      execArgv: ["--require", "tsx/cjs"],
    }, }),
  defineProject({ ...shared, test: { name: "effection", root: "packages/effection", include: ["test/**/*.test.ts"], setupFiles } }),
  defineProject({ ...shared, test: { name: "express", root: "packages/express", include: ["test/**/*.test.ts"], setupFiles } }),
  defineProject({ ...shared, test: { name: "fastify", root: "packages/fastify", include: ["test/**/*.test.ts"], setupFiles } }),
  defineProject({ ...shared, test: { name: "hono", root: "packages/hono", include: ["test/**/*.test.ts"], setupFiles } }),
  // Without the "module" condition, which picks the OpenTelemetry packages' bundler builds (extensionless imports Node cannot load).
  defineProject({ ...forNode, test: { name: "opentelemetry", root: "packages/opentelemetry", include: ["test/**/*.test.ts"], setupFiles } }),
  defineProject({ ...shared, test: { name: "examples", root: "examples", include: ["test/**/*.test.ts"], setupFiles } }),
  // Every export of every public package has a doc comment, an example and an entry in docs/reference.
  defineProject({ test: { name: "docs", root: "tools/docs", include: ["test/**/*.test.ts"] } }),
];
